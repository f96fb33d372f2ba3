"""The write path for persons and their phones."""

import datetime as dt
from dataclasses import dataclass, field

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


# `community=UNCHANGED` leaves a person's community as it is; `community=None` clears it.
UNCHANGED = object()


@dataclass
class PersonWrite:
    """What `person_write` did: the person, whether it was created, the fields it changed
    (`name`, `community`, `birth_date`, `phones`) and the person as it was before, masked
    (`person_snapshot`), for the audit of a manual change."""

    person: Person
    created: bool
    changed: set[str] = field(default_factory=set)
    before: dict = field(default_factory=dict)

    @property
    def status_changed(self) -> bool:
        """Whether the status can change: phones bring telecom stays, the birth date the proxy rule."""
        return bool(self.changed & {"phones", "birth_date"})


def person_snapshot(person: Person) -> dict:
    """A person's record as the audit keeps it: masked name, community code, birth year, and the
    phones masked with their channel and binding period."""
    return {
        "name": person.display_name,
        "community": person.community.code if person.community_id else None,
        "birth_year": person.birth_date.year if person.birth_date else None,
        "phones": [
            {
                "number": p.display_number,
                "channel": p.channel,
                "bound_at": p.bound_at.isoformat(),
                "unbound_at": p.unbound_at.isoformat() if p.unbound_at else None,
            }
            for p in person.phones.order_by("channel", "number_hash", "bound_at")
        ]
        if person.pk
        else [],
    }


def person_find(*, id_type: str, id_number: str, lock: bool = False, queryset=None) -> Person | None:
    """The person with this (validated) ID, or None; never creates one."""
    number = validate_id(id_type, id_number, today=local_date(now()))
    queryset = Person.objects.all() if queryset is None else queryset
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.filter(id_hash=person_id_hash(id_type, number)).first()


def person_changes(
    person: Person, *, name=None, community=UNCHANGED, birth_date=None, phones: list | tuple = ()
) -> set[str]:
    """The fields a write would change on `person` (nothing is written)."""
    changed = set()
    if name is not None and name.strip() and name.strip() != person.name:
        changed.add("name")
    if community is not UNCHANGED and person.community_id != (community.pk if community is not None else None):
        changed.add("community")
    if birth_date is not None and person.birth_date != birth_date:
        changed.add("birth_date")
    for phone in phones:
        current = person.phones.filter(number_hash=phone_hash(phone.number), channel=phone.channel).first()
        if current is None or (current.bound_at, current.unbound_at) != (phone.bound_at, phone.unbound_at):
            changed.add("phones")
            break
    return changed


@transaction.atomic
def person_write(
    *,
    id_type: str,
    id_number: str,
    name: str | None = None,
    community=UNCHANGED,
    birth_date: dt.date | None = None,
    phones: list[PhoneInput] | tuple = (),
    create: bool = True,
    rename: bool = True,
) -> PersonWrite | None:
    """Create the person with this ID (when `create`), or update the fields given; None when the
    person is unknown and `create` is off. No access check: callers are the feeds' path
    (`person_upsert`) and the services that check who may (apps.casework.services.person_change,
    apps.hotels.services). A resident ID is validated (check digit, possible birth date) and
    gives the birth date. Without `rename`, `name` is used only for a person created here."""
    number = validate_id(id_type, id_number, today=local_date(now()))
    if id_type == IdType.RESIDENT_ID:
        birth_date = resident_id_birth_date(number)
    digest = person_id_hash(id_type, number)
    person = Person.objects.select_for_update(of=("self",)).filter(id_hash=digest).first()
    created = person is None
    if created and not create:
        return None
    if created:
        person = Person(
            id_type=id_type, id_hash=digest, id_encrypted=crypto.encrypt(number), display_id=mask_id_number(number)
        )
        outcome = PersonWrite(person=person, created=True)
    else:
        name = name if rename else None
        outcome = PersonWrite(
            person=person,
            created=False,
            changed=person_changes(person, name=name, community=community, birth_date=birth_date, phones=phones),
            before=person_snapshot(person),
        )
    if created or outcome.changed - {"phones"}:
        if name is not None and name.strip():
            person.name = name.strip()
            person.display_name = mask_name(person.name)
        if community is not UNCHANGED:
            person.community = community
        if birth_date is not None:
            person.birth_date = birth_date
        person.save()
    for phone in phones:
        phone_bind(person=person, phone=phone)
    return outcome


def person_upsert(
    *,
    id_type: str,
    id_number: str,
    name: str | None = None,
    community=None,
    birth_date: dt.date | None = None,
    phones: list[PhoneInput] | tuple = (),
) -> tuple[Person, bool]:
    """The feeds' write path: create the person with this ID, or update the fields given
    (`community=None` leaves it as it is). Returns (person, created). Feeds are the source of
    persons, names and phones (SPEC §7); staff changes go through
    `apps.casework.services.person_change`, which checks who may and audits."""
    outcome = person_write(
        id_type=id_type,
        id_number=id_number,
        name=name,
        community=UNCHANGED if community is None else community,
        birth_date=birth_date,
        phones=phones,
    )
    return outcome.person, outcome.created


def person_ensure(*, id_type: str, id_number: str, name: str = "") -> tuple[Person, bool]:
    """The person with this ID, created when unknown (with `name`); a known person's stored name
    is left alone (SPEC §7: staff and channels never overwrite it in passing)."""
    existing = person_find(id_type=id_type, id_number=id_number)
    if existing is not None:
        return existing, False
    outcome = person_write(id_type=id_type, id_number=id_number, name=name or None, rename=False)
    return outcome.person, outcome.created


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
