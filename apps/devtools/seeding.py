"""Derived fields of generated persons and phones, shared by the demo (`apps.devtools.demo`) and the
city-scale population (`apps.devtools.population`).

Both write rows in bulk instead of calling `person_upsert` and `phone_bind` once per person, so
they must store exactly what those services store: the keyed look-up hash, the ciphertext and the
masked display form (SPEC §7, §9). These two functions are the one place that says how.
"""

from apps.core import crypto
from apps.core.masking import mask_id_number, mask_name, mask_phone
from apps.people.services import person_id_hash, phone_hash, phone_normalise


def person_protected_fields(id_type: str, number: str, name: str) -> dict:
    """The fields `person_upsert` derives from a validated, normalised ID number and a name."""
    name = name.strip()
    return {
        "id_type": id_type,
        "id_hash": person_id_hash(id_type, number),
        "id_encrypted": crypto.encrypt(number),
        "display_id": mask_id_number(number),
        "name": name,
        "display_name": mask_name(name),
    }


def phone_protected_fields(number: str) -> dict:
    """The fields `phone_bind` derives from a phone number."""
    number = phone_normalise(number)
    return {
        "number_hash": phone_hash(number),
        "number_encrypted": crypto.encrypt(number),
        "display_number": mask_phone(number),
    }
