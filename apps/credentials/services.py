"""The write path of the credentials: issuing a person's status as a signed credential,
verifying one online (the offline verifier plus `superseded`), keeping the trust list of other
regions' keys, and purging the record of issued credentials once they have expired."""

import dataclasses
import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.choices import AuditKind
from apps.audit.services import audit_event_record
from apps.core.clock import LOCAL_TZ, next_local_midnight, now
from apps.core.errors import DomainError
from apps.status.presentation import STATE_COLOUR
from apps.status.services import status_current

from . import verifier as v
from .models import REGION_CODE, IssuedCredential, TrustedIssuer, TrustedKey
from .presentation import qr_svg
from .selectors import keys_document_cached, keys_document_forget
from .signing import COSE_ALG, credential_sign, key_in_force, public_key_check

PURGE_BATCH = 10_000


class NoSigningKey(DomainError):
    """No configured key is in force (all expired, or the next not yet valid): the portal cannot
    issue credentials until an operator adds one. The status itself is still served."""

    status_code = 503


@dataclasses.dataclass(frozen=True)
class Issued:
    credential: str
    svg: str
    issuer: str
    kid: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    state: str
    colour: str
    claims: dict  # the signed claims, as the tests inspect them

    def as_json(self) -> dict:
        return {
            "credential": self.credential,
            "svg": self.svg,
            "issuer": self.issuer,
            "kid": self.kid,
            "issued_at": self.issued_at.astimezone(LOCAL_TZ).isoformat(),
            "expires_at": self.expires_at.astimezone(LOCAL_TZ).isoformat(),
            "state": self.state,
            "colour": self.colour,
        }


def credential_expiry(row, t: dt.datetime) -> dt.datetime:
    """The status's `valid_until` as the status API gives it (apps.status.selectors.status_payload):
    the next local midnight or the next moment the status changes without new data, whichever is
    earlier. The credential must not outlive the status it shows."""
    expiry = next_local_midnight(t)
    if row.next_change_at is not None:
        expiry = min(expiry, row.next_change_at)
    return expiry


def _popup_numbers(row) -> list[int]:
    return sorted({int(p["number"]) for p in row.popups or ()})


def credential_issue(*, person, row, t: dt.datetime | None = None) -> Issued:
    """Sign the person's current status `row` (from `status_current`) as a credential. The
    claims hold the masked name and ID (SPEC §7) and nothing else of the person; the random
    `cti` is noted server-side with the person and status version, until expiry, for
    `superseded`. Signed by the newest key in force at the (whole-second) issue time."""
    t = t or now()
    iat = int(t.timestamp())
    issued_at = dt.datetime.fromtimestamp(iat, dt.UTC)
    try:
        key = key_in_force(settings.CREDENTIAL_SIGNING_KEYS, issued_at)
    except LookupError as error:
        raise NoSigningKey(_("No credential signing key is in force: credentials cannot be issued now.")) from error
    expires_at = credential_expiry(row, t)
    exp = int(expires_at.timestamp())
    popups = _popup_numbers(row)
    cti = secrets.token_bytes(16)
    colour = STATE_COLOUR[row.state]
    claims = {
        v.ISS: settings.CREDENTIAL_ISSUER,
        v.IAT: iat,
        v.EXP: exp,
        v.CTI: cti,
        v.STATUS_CLAIM: {
            v.STATE: str(row.state),
            v.COLOUR: colour,
            v.POPUPS: popups,
            v.NAME: person.display_name,
            v.ID_NUMBER: person.display_id,
            v.VERSION: int(row.version),
        },
    }
    text = credential_sign(claims, key)
    IssuedCredential.objects.create(
        cti=cti.hex(),
        person_id=person.pk,
        version=row.version,
        state=row.state,
        popups=popups,
        expires_at=dt.datetime.fromtimestamp(exp, dt.UTC),
    )
    return Issued(
        credential=text,
        svg=qr_svg(text),
        issuer=settings.CREDENTIAL_ISSUER,
        kid=key.kid,
        issued_at=issued_at,
        expires_at=dt.datetime.fromtimestamp(exp, dt.UTC),
        state=row.state,
        colour=colour,
        claims=claims,
    )


def _superseded(result: v.Verification) -> bool | None:
    """Whether this region's credential shows a status that has changed since issue: the
    status was recomputed (its version moved) and what a checkpoint reads — the state, the
    popups, or how long it holds — differs. None when it cannot be told: another region's
    credential, or one whose note was purged or never made here."""
    if result.issuer != settings.CREDENTIAL_ISSUER or result.cti is None:
        return None
    issued = IssuedCredential.objects.filter(cti=result.cti.hex()).first()
    if issued is None:
        return None
    current = status_current(person_id=issued.person_id)
    if current.version == issued.version:
        return False
    return (
        current.state != issued.state
        or _popup_numbers(current) != sorted(issued.popups)
        or (current.next_change_at is not None and current.next_change_at < result.expires_at)
    )


def credential_verify(*, credential: str, t: dt.datetime | None = None) -> dict:
    """Verify a credential online: the offline verifier (`apps.credentials.verifier.verify`, the
    same function a checkpoint runs) with this portal's keys document, and for this region's
    credentials whether the status changed since issue (API.md "Credentials")."""
    t = t or now()
    result = v.verify(credential, keys_document_cached(t), t)
    return {
        "valid": result.valid,
        "reason": result.reason,
        "issuer": result.issuer,
        "kid": result.kid,
        "state": result.state,
        "colour": result.colour,
        "popups": list(result.popups),
        "display_name": result.display_name,
        "display_id": result.display_id,
        "issued_at": result.issued_at.astimezone(LOCAL_TZ).isoformat() if result.issued_at else None,
        "expires_at": result.expires_at.astimezone(LOCAL_TZ).isoformat() if result.expires_at else None,
        "superseded": _superseded(result) if result.valid else None,
    }


def issued_credentials_purge(*, before: dt.datetime | None = None) -> int:
    """Delete the notes of credentials expired before `before` (now), in batches: a note is
    kept only as long as its credential can verify. Returns how many were deleted."""
    before = before or now()
    deleted = 0
    while True:
        ctis = list(IssuedCredential.objects.filter(expires_at__lte=before).values_list("cti", flat=True)[:PURGE_BATCH])
        if not ctis:
            return deleted
        deleted += IssuedCredential.objects.filter(cti__in=ctis).delete()[0]


# --- the trust list (互认), kept by policy administrators ---------------------------------------------


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat() if moment else None


def _trust_list_changed(actor, change: str, reason: str, detail: dict) -> None:
    # This process's copy of the keys document is dropped now and again at commit; the other
    # processes' within KEYS_CACHE_SECONDS.
    keys_document_forget()
    transaction.on_commit(keys_document_forget)
    # Kept by policy administrators (SPEC §11): audited as its own kind, the change named in the detail.
    audit_event_record(
        kind=AuditKind.TRUST_LIST_CHANGED, actor=actor, reason=reason, detail={"change": change, **detail}
    )


@transaction.atomic
def trusted_issuer_save(*, actor, region: str, name: str, note: str = "") -> TrustedIssuer:
    """Put another region on the trust list, or rename it. Its credentials verify only under
    its keys (`trusted_key_add`), each in force for its dates."""
    region = (region or "").strip()
    try:
        REGION_CODE(region)
    except ValidationError as error:
        raise ValidationError({"region": error.messages}) from error
    if region == settings.CREDENTIAL_ISSUER:
        raise ValidationError({"region": [_("This is the portal's own region: its keys are not on the trust list.")]})
    if not (name or "").strip():
        raise ValidationError({"name": [_("Give the region's name.")]})
    issuer, created = TrustedIssuer.objects.update_or_create(
        region=region, defaults={"name": name.strip(), "note": note}
    )
    _trust_list_changed(
        actor, "trusted_issuer.added" if created else "trusted_issuer.changed", note, {"region": region, "name": name}
    )
    return issuer


@transaction.atomic
def trusted_key_add(
    *,
    actor,
    issuer: TrustedIssuer,
    kid: str,
    alg: str,
    public_key: str,
    valid_from: dt.datetime,
    valid_to: dt.datetime | None = None,
    reason: str = "",
) -> TrustedKey:
    """Trust one public key of a trusted region for credentials it issued from `valid_from`
    until `valid_to` (open when None). The key must be a real key of the algorithm given."""
    kid = (kid or "").strip()
    if not kid or not kid.isascii() or len(kid) > 64:
        raise ValidationError({"kid": [_("A key id is 1 to 64 ASCII characters.")]})
    if TrustedKey.objects.filter(issuer=issuer, kid=kid).exists():
        raise ValidationError({"kid": [_("This region already has a key of this id.")]})
    if alg not in COSE_ALG:
        raise ValidationError({"alg": [_("Unknown algorithm.")]})
    try:
        pem = public_key_check(public_key, alg)
    except ValueError as error:
        raise ValidationError({"public_key": [_("Not a usable public key: %(error)s.") % {"error": error}]}) from error
    if valid_to is not None and valid_to <= valid_from:
        raise ValidationError({"valid_to": [_("The end must come after the start.")]})
    key = TrustedKey.objects.create(
        issuer=issuer, kid=kid, alg=alg, public_key=pem, valid_from=valid_from, valid_to=valid_to
    )
    _trust_list_changed(
        actor,
        "trusted_key.added",
        reason,
        {
            "region": issuer.region,
            "kid": kid,
            "alg": alg,
            "valid_from": _iso(valid_from),
            "valid_to": _iso(valid_to),
        },
    )
    return key


@transaction.atomic
def trusted_key_end(*, actor, key: TrustedKey, valid_to: dt.datetime | None, reason: str = "") -> TrustedKey:
    """Change when a trusted key stops verifying (a region rotated or withdrew it). Only the end
    moves: the key, its id and its start are what was trusted, and stay as they were."""
    if valid_to is not None and valid_to <= key.valid_from:
        raise ValidationError({"valid_to": [_("The end must come after the start.")]})
    before = key.valid_to
    key.valid_to = valid_to
    key.save(update_fields=["valid_to", "updated_at"])
    _trust_list_changed(
        actor,
        "trusted_key.ended",
        reason,
        {
            "region": key.issuer.region,
            "kid": key.kid,
            "valid_to_before": _iso(before),
            "valid_to": _iso(valid_to),
        },
    )
    return key
