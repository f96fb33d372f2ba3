"""Shared model bases."""

from django.db import IntegrityError, models
from django.db.models.signals import class_prepared, pre_delete
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds when a row was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(IntegrityError):
    """A change to an append-only row, refused before it reaches the database (which refuses it
    too: apps.core.db)."""


class AppendOnlyQuerySet(models.QuerySet):
    """`update()` and `delete()` refused in bulk as `save()` and `delete()` are for one row. An
    `update()` of the model's `append_only_fill_once` column only is passed on: the database lets
    it through while that column still holds `{}` (a release's status after)."""

    def update(self, **kwargs):
        if not set(kwargs) <= set(self.model.append_only_fill_once):
            raise AppendOnlyError(f"{self.model.__name__} rows can never be changed.")
        return super().update(**kwargs)

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows can never be deleted.")

    delete.alters_data = True
    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """A row that is written once and never edited or deleted (SPEC §5): the audit, releases,
    appeal events, status transitions. Refused here, by the queryset, and by the database
    (`apps.core.db.append_only_operation` in the model's migrations; the application's database
    role has no UPDATE or DELETE on these tables)."""

    # A column that may be filled once after insertion, while it holds `{}` (Release.status_after).
    append_only_fill_once: tuple[str, ...] = ()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows can never be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows can never be deleted.")


def _refuse_delete(sender, instance, **kwargs):
    raise AppendOnlyError(f"{sender.__name__} rows can never be deleted.")


def _guard_cascades(sender, **kwargs):
    """A row deleted with another one (`on_delete=CASCADE`: an appeal's events) is refused too:
    the collector sends `pre_delete` for every row before it deletes any."""
    if issubclass(sender, AppendOnlyModel) and not sender._meta.abstract:
        pre_delete.connect(_refuse_delete, sender=sender, dispatch_uid=f"append_only:{sender._meta.label}")


class_prepared.connect(_guard_cascades)
