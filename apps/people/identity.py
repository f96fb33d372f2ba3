"""Identity documents (SPEC §9): normalisation and validation of each ID type.

A mainland resident ID has 18 characters: a six-digit area code, the birth date YYYYMMDD, a
three-digit sequence and a check character computed with ISO 7064 MOD 11-2 (the last may be X).
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import IdType

# No living person, nor anyone the service could meet, was born before this: an earlier birth date
# (in a resident ID or given with another ID type) is a typo or garbage.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# 老幼助查 (SPEC §9): a proxy look-up is for persons aged 60 or over, or 16 or under.
PROXY_MIN_ELDER_AGE = 60
PROXY_MAX_CHILD_AGE = 16

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT = re.compile(r"^\d{17}[\dX]$")
# `IdType.values` builds its list anew on each read: once here (a feed batch checks 500 IDs).
_ID_TYPES = frozenset(IdType.values)
_PATTERNS = {
    # 港澳居民来往内地通行证: H or M and 8 or 10 digits; 台湾居民来往大陆通行证: 8 or 10 digits.
    IdType.HK_MACAO_PERMIT: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    IdType.TAIWAN_PERMIT: re.compile(r"^\d{8}(\d{2})?$"),
    IdType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    # 外国人永久居留身份证: 15 characters (old) or 18 (2017 style, starting with 9).
    IdType.FOREIGN_PERMANENT_RESIDENCE: re.compile(r"^([A-Z]{3}\d{12}|9\d{17})$"),
}


def resident_id_check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id_number(id_number: str) -> str:
    return re.sub(r"\s+", "", id_number or "").upper()


def resident_id_birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def validate_id(id_type: str, id_number: str, *, today: dt.date | None = None) -> str:
    """Return the normalised ID number or raise a ValidationError on `id_number`."""
    value = normalise_id_number(id_number)
    if id_type not in _ID_TYPES:
        raise ValidationError({"id_type": [_("Unknown ID type %(t)s.") % {"t": id_type}]})
    if not value:
        raise ValidationError({"id_number": [_("The ID number is required.")]})
    if id_type == IdType.RESIDENT_ID:
        if not _RESIDENT.match(value):
            raise ValidationError({"id_number": [_("A resident ID has 17 digits and a check digit or X.")]})
        birth = resident_id_birth_date(value)
        today = today or dt.date.today()
        if birth is None or not birth_date_possible(birth, today):
            raise ValidationError({"id_number": [_("The birth date in this resident ID is impossible.")]})
        if resident_id_check_char(value[:17]) != value[17]:
            raise ValidationError({"id_number": [_("The check digit of this resident ID is wrong.")]})
        return value
    if not _PATTERNS[id_type].match(value):
        raise ValidationError(
            {"id_number": [_("This is not a valid number for %(t)s.") % {"t": IdType(id_type).label}]}
        )
    return value


def birth_date_possible(birth_date: dt.date, today: dt.date) -> bool:
    """Not in the future (a negative age) and not before EARLIEST_BIRTH_DATE."""
    return EARLIEST_BIRTH_DATE <= birth_date <= today


def age_on(birth_date: dt.date, today: dt.date) -> int:
    """Completed years on `today` (a birthday on 29 February counts from 1 March in other years)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def proxy_lookup_allowed(birth_date: dt.date | None, today: dt.date) -> bool:
    """SPEC §9 (老幼助查): only for a person aged 60 or over, or 16 or under, by a birth date that is
    known and possible. A birth date in the future (a negative age) or before 1900 is no age at
    all, whatever a feed stored: refused, like an unknown one."""
    if birth_date is None or not birth_date_possible(birth_date, today):
        return False
    age = age_on(birth_date, today)
    return age >= PROXY_MIN_ELDER_AGE or age <= PROXY_MAX_CHILD_AGE


def id_lookup_key(id_type: str, normalised: str) -> str:
    """What the keyed hash is taken of: the type and the number, so equal numbers of different
    document types never collide."""
    return f"{id_type}:{normalised}"
