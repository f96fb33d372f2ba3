"""The row history's base (STYLE.md "Two audit layers"): django-simple-history's
`HistoricalRecords` whose rows also record where the change came from, `history_origin`
(admin, api, task or command: apps.core.origin), as Read the Docs' ExtraHistoricalRecords
records the IP. Models declare `history = HistoricalRecords()` from here.

The origin is the field's default, read from the context when a history row is built, so the
ORM's saves, simple-history's bulk path and `apps.core.bulk` (COPY) all fill it. Rows written
before the column existed have none (NULL)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history import models as simple_history

from .origin import Origin, current_origin


class OriginHistoricalModel(models.Model):
    # NULL, not "": a row written before the column existed has no known origin.
    history_origin = models.CharField(  # noqa: DJ001
        _("origin"), max_length=10, choices=Origin.choices, null=True, blank=True, default=current_origin
    )

    class Meta:
        abstract = True


class HistoricalRecords(simple_history.HistoricalRecords):
    def __init__(self, *args, bases=(models.Model,), **kwargs):
        super().__init__(*args, bases=(OriginHistoricalModel, *[b for b in bases if b is not models.Model]), **kwargs)
