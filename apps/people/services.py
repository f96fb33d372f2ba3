"""The write path for persons and their phones."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core import crypto
from apps.core.clock import local_date, now
from apps.core.masking import mask_id_number, mask_name, mask_phone

from .choices import IdType, PhoneChannel
from .identity import id_lookup_key, resident_id_birth_date, validate_id
from .models import Person, Phone


def person_id_hash(id_type: str, id_number: str) -> str:
    """The look-up hash of a *validated, normalised* ID."""
    return crypto.lookup_hash(id_lookup_key(id_type, id_number))


def phone_normalise(number: str) -> str:
    value = "".join(ch for ch in (number or "") if ch.isdigit() or ch == "+")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not (5 <= len(value) <= 20):
        raise ValidationError({"number": [_("A phone number has 5 to 20 digits.")]})
    return value


def phone_hash(number: str) -> str:
    return crypto.lookup_hash("phone:" + phone_normalise(number))


@dataclass(frozen=True)
class PhoneInput:
    number: str
    channel: str
    bound_at: dt.datetime
    unbound_at: dt.datetime | None = None


@transaction.atomic
def person_upsert(
    *,
    id_type: str,
    id_number: str,
    name: str | None = None,
    community=None,
    birth_date: dt.date | None = None,
    phones: list[PhoneInput] | tuple = (),
) -> tuple[Person, bool]:
    """Create the person with this ID, or update the fields given. Returns (person, created).
    A resident ID is validated (check digit, possible birth date) and gives the birth date."""
    number = validate_id(id_type, id_number, today=local_date(now()))
    if id_type == IdType.RESIDENT_ID:
        birth_date = resident_id_birth_date(number)
    digest = person_id_hash(id_type, number)
    person = Person.objects.select_for_update().filter(id_hash=digest).first()
    created = person is None
    if created:
        person = Person(
            id_type=id_type, id_hash=digest, id_encrypted=crypto.encrypt(number), display_id=mask_id_number(number)
        )
    changed = created
    if name is not None and name.strip() and name.strip() != person.name:
        person.name = name.strip()
        person.display_name = mask_name(person.name)
        changed = True
    if community is not None and person.community_id != community.pk:
        person.community = community
        changed = True
    if birth_date is not None and person.birth_date != birth_date:
        person.birth_date = birth_date
        changed = True
    if changed:
        person.save()
    for phone in phones:
        phone_bind(person=person, phone=phone)
    return person, created


@transaction.atomic
def phone_bind(*, person: Person, phone: PhoneInput) -> Phone:
    """Record (or update) that a number belongs to the person through a channel."""
    if phone.channel not in PhoneChannel.values:
        raise ValidationError({"channel": [_("Unknown channel %(c)s.") % {"c": phone.channel}]})
    if phone.unbound_at is not None and phone.unbound_at < phone.bound_at:
        raise ValidationError({"unbound_at": [_("A number cannot be unbound before it was bound.")]})
    number = phone_normalise(phone.number)
    digest = phone_hash(number)
    obj, created = Phone.objects.get_or_create(
        person=person,
        number_hash=digest,
        channel=phone.channel,
        defaults={
            "number_encrypted": crypto.encrypt(number),
            "display_number": mask_phone(number),
            "bound_at": phone.bound_at,
            "unbound_at": phone.unbound_at,
        },
    )
    if not created and (obj.bound_at, obj.unbound_at) != (phone.bound_at, phone.unbound_at):
        obj.bound_at, obj.unbound_at = phone.bound_at, phone.unbound_at
        obj.save(update_fields=["bound_at", "unbound_at", "updated_at"])
    return obj


def person_id_number(person: Person) -> str:
    """The clear ID number, for code paths serving a role entitled to it (and for partners
    that already hold it, such as the restrictions feed)."""
    return crypto.decrypt(person.id_encrypted)


def person_identity_clear(person: Person) -> dict:
    """The person's clear name, ID number and phone numbers, for a role entitled to them
    (access.ACTION_ROLES["person.reveal"]); the caller checks the role and logs the look-up. A
    number the retention purge erased (kept only for the audit) shows as erased."""
    phones = person.phones.order_by("-bound_at")
    return {
        "name": person.name,
        "id_number": person_id_number(person),
        "phones": [
            {
                "number": crypto.decrypt(p.number_encrypted) if p.number_encrypted else _("(erased)"),
                "channel": p.get_channel_display(),
                "bound_at": p.bound_at,
                "unbound_at": p.unbound_at,
            }
            for p in phones
        ],
    }
