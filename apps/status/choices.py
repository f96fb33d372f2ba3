from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    GREEN = "green", _("未见异常 no abnormality")
    POPUP = "popup", _("弹窗 popup")
    YELLOW = "yellow", _("居家观察 home observation")
    RED = "red", _("集中观察 centralised observation")


# Precedence, lowest first: red > yellow > popup > green (SPEC §1).
PRECEDENCE = {State.GREEN: 0, State.POPUP: 1, State.YELLOW: 2, State.RED: 3}


def strongest(states: Iterable[str]) -> str:
    """The state that wins among `states` (green when there is none)."""
    return str(max(states, key=PRECEDENCE.__getitem__, default=State.GREEN))


class PopupEnd(models.TextChoices):
    AUTO = "auto", _("cleared automatically")
    RELEASE = "release", _("released by staff")


class PopupClears(models.TextChoices):
    """How an active popup clears (the status API's `clears`)."""

    AUTO = "auto", _("clears automatically")
    MANUAL_OR_AUTO = "manual_or_auto", _("released by the community or CDC after verification, or automatically")
