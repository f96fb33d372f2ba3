"""The one masking helper: how a person's name, ID number and phone are shown to staff.

SPEC §7: the name as its first character plus one `*` per other character (王**, 欧***, J***),
the ID number as its first two and last two characters with `*` between, and a phone number
as its first three and last four digits.
"""


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str) -> str:
    value = (id_number or "").strip()
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_phone(number: str) -> str:
    value = (number or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
