from django.db import models
from django.utils.translation import gettext_lazy as _


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("mainland resident ID")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Hong Kong/Macao permit")
    TAIWAN_PERMIT = "taiwan_permit", _("Taiwan permit")
    PASSPORT = "passport", _("passport")
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence", _("foreign permanent residence card")


class PhoneChannel(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    ALIPAY = "alipay", _("Alipay")
    BAIDU = "baidu", _("Baidu")
    BEIJING_TONG = "beijing_tong", _("Beijing Tong")
    CARRIER = "carrier", _("carrier real-name registration")
