from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    GREEN = "green", _("未见异常 no abnormality")
    POPUP = "popup", _("弹窗 popup")
    YELLOW = "yellow", _("居家观察 home observation")
    RED = "red", _("集中观察 centralised observation")


# Precedence, lowest first: red > yellow > popup > green.
PRECEDENCE = {State.GREEN: 0, State.POPUP: 1, State.YELLOW: 2, State.RED: 3}


class PopupEnd(models.TextChoices):
    AUTO = "auto", _("cleared automatically")
    RELEASE = "release", _("released by staff")
