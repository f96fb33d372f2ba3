"""The write path for organisations, staff, partner systems and their API tokens."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.areas.models import Area
from apps.audit.choices import AuditKind, Origin
from apps.audit.services import audit_event_record
from apps.core.clock import now

from .choices import OrgKind, Role, Scope
from .models import ApiToken, Organisation, PartnerSystem, User


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, revoke_others: bool = False, audit: bool = True) -> str:
    """Create a token for `user` and return it; only its digest is stored. With `revoke_others`
    every earlier token of the user stops working (a rotation)."""
    if revoke_others:
        api_token_revoke_all(user=user)
    token = secrets.token_hex(20)
    lifetime = _token_lifetime(user)
    ApiToken.objects.create(
        user=user, digest=token_digest(token), prefix=token[:8], expires_at=now() + lifetime if lifetime else None
    )
    if audit:
        audit_event_record(
            kind=AuditKind.API_TOKEN_ISSUED, actor=None, detail={"user": user.username, "prefix": token[:8]}
        )
    return token


def api_tokens_revoke(*, tokens, actor: User | None, origin: Origin | None = None) -> int:
    """The tokens of `tokens` (a queryset) not yet revoked stop working now; one audit event names
    them by prefix. Returns how many were revoked."""
    tokens = tokens.filter(revoked_at__isnull=True)
    revoked = [
        {"prefix": prefix, "user": username} for prefix, username in tokens.values_list("prefix", "user__username")
    ]
    count = tokens.update(revoked_at=now())
    if count:
        audit_event_record(kind=AuditKind.API_TOKEN_REVOKED, actor=actor, detail={"tokens": revoked}, origin=origin)
    return count


@transaction.atomic
def api_token_revoke_all(*, user: User, actor: User | None = None) -> int:
    """Every token of the user stops working now. Returns how many were still usable."""
    return api_tokens_revoke(tokens=ApiToken.objects.filter(user=user), actor=actor)


def _area_or_error(code: str | None, field: str = "area") -> Area | None:
    if not code:
        return None
    try:
        return Area.objects.get(code=code)
    except Area.DoesNotExist:
        raise ValidationError({field: [_("Unknown area code %(code)s.") % {"code": code}]}) from None


@transaction.atomic
def organisation_upsert(
    *, code: str, kind: str, name: str, area_code: str | None = None, parent_code: str | None = None
) -> tuple[Organisation, bool]:
    """Create the organisation `code`, or update it when it exists. Returns (org, created)."""
    if kind not in OrgKind.values:
        raise ValidationError({"kind": [_("Unknown kind %(kind)s.") % {"kind": kind}]})
    parent = None
    if parent_code:
        parent = Organisation.objects.filter(code=parent_code).first()
        if parent is None:
            raise ValidationError({"parent": [_("Unknown organisation %(code)s.") % {"code": parent_code}]})
        if parent.code == code:
            raise ValidationError({"parent": [_("An organisation cannot be its own parent.")]})
    area = _area_or_error(area_code)
    if area is None and parent is not None:
        area = parent.area
    org, created = Organisation.objects.update_or_create(
        code=code, defaults={"kind": kind, "name": name, "area": area, "parent": parent}
    )
    return org, created


@transaction.atomic
def staff_upsert(*, username: str, role: str, org_code: str, password: str | None = None) -> tuple[User, str]:
    """Create or update a staff user with one role and one organisation; returns (user, a new API
    token). Re-running rotates the token: earlier tokens of the user are revoked."""
    if role not in Role.values or role == Role.PARTNER:
        raise ValidationError({"role": [_("Unknown role %(role)s.") % {"role": role}]})
    org = Organisation.objects.filter(code=org_code).first()
    if org is None:
        raise ValidationError({"org": [_("Unknown organisation %(code)s.") % {"code": org_code}]})
    user, _created = User.objects.get_or_create(username=username)
    user.role = role
    user.organisation = org
    user.is_staff = True
    user.is_active = True
    if password:
        user.set_password(password)
    elif not user.password:
        user.set_unusable_password()  # token-only until a password is set
    user.save()
    return user, api_token_issue(user=user, revoke_others=True)


def parse_scopes(raw: str) -> list[str]:
    scopes = sorted({s.strip() for s in raw.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": [
                    _("Unknown scopes: %(s)s. Choose from %(all)s.")
                    % {"s": ", ".join(unknown) or "-", "all": ", ".join(Scope.values)}
                ]
            }
        )
    return scopes


@transaction.atomic
def partner_upsert(*, name: str, scopes: list[str]) -> tuple[PartnerSystem, str]:
    """Create or update a partner system with its scopes; returns (partner, a new API token).
    Re-running rotates the token."""
    partner = PartnerSystem.objects.filter(name=name).select_related("user").first()
    if partner is None:
        org, _created = Organisation.objects.get_or_create(
            code=f"partner:{name}"[:32], defaults={"kind": OrgKind.PARTNER, "name": name}
        )
        user = User.objects.create(
            username=f"partner:{name}"[:150], role=Role.PARTNER, organisation=org, is_staff=False
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        partner = PartnerSystem.objects.create(name=name, scopes=scopes, user=user)
    else:
        partner.scopes = scopes
        partner.is_active = True
        partner.save(update_fields=["scopes", "is_active", "updated_at"])
    return partner, api_token_issue(user=partner.user, revoke_others=True)


# --- API tokens: expiry, rotation, revocation ---------------------------------------------------


def _token_lifetime(user: User) -> dt.timedelta | None:
    days = settings.PARTNER_TOKEN_DAYS if user.role == Role.PARTNER else settings.API_TOKEN_DAYS
    return dt.timedelta(days=days) if days else None


def _rotate(*, user: User, retiring, actor: User | None, immediately: bool) -> str:
    """Issue a new token for `user` and retire the tokens of `retiring` (a queryset): at once, or
    after API_TOKEN_ROTATION_GRACE_HOURS so a partner can switch its systems over without a gap."""
    t = now()
    end = t if immediately else t + dt.timedelta(hours=settings.API_TOKEN_ROTATION_GRACE_HOURS)
    retiring = retiring.usable(t)
    prefixes = list(retiring.values_list("prefix", flat=True))
    retiring.update(replaced_at=t)
    if immediately:
        retiring.update(revoked_at=t)
    else:
        retiring.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=end)).update(expires_at=end)
    new = api_token_issue(user=user, audit=False)
    audit_event_record(
        kind=AuditKind.API_TOKEN_ROTATED,
        actor=actor or user,
        detail={"user": user.username, "old": prefixes, "new": new[:8], "old_valid_until": end.isoformat()},
    )
    return new


@transaction.atomic
def api_token_rotate(*, token: ApiToken, actor: User | None = None, immediately: bool = False) -> str:
    """Replace one token (the one a partner is calling with)."""
    return _rotate(user=token.user, retiring=ApiToken.objects.filter(pk=token.pk), actor=actor, immediately=immediately)


@transaction.atomic
def api_token_rotate_user(*, user: User, actor: User | None = None, immediately: bool = False) -> str:
    """Replace every usable token of a user (the `rotate_token` command)."""
    return _rotate(user=user, retiring=ApiToken.objects.filter(user=user), actor=actor, immediately=immediately)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> None:
    """The token a partner is calling with stops working (the API)."""
    api_tokens_revoke(tokens=ApiToken.objects.filter(pk=token.pk), actor=actor or token.user)


# --- the second factor (TOTP) ---------------------------------------------------------------------

TOTP_DEVICE_NAME = "authenticator"


def second_factor_pending_device(*, user: User):
    """The user's unconfirmed authenticator, created on first call: its secret is shown (as a QR
    code) until the user proves the app holds it by entering a code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def second_factor_confirm(*, user: User, device, token: str) -> bool:
    """Confirm an enrolment: True when `token` is the current code of the pending device."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator a user: enrolling anew replaces the old one (a lost phone).
    type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
    audit_event_record(kind=AuditKind.SECOND_FACTOR_ENROLLED, actor=user)
    return True


@transaction.atomic
def second_factor_reset(*, user: User, actor: User) -> int:
    """Remove a user's authenticators (a lost phone); they enrol again at their next login."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    count, _detail = TOTPDevice.objects.filter(user=user).delete()
    audit_event_record(kind=AuditKind.SECOND_FACTOR_RESET, actor=actor, detail={"user": user.username})
    return count


# --- login lock-out (django-axes) -------------------------------------------------------------


def login_lockout_reset(*, users: list[User], actor: User) -> int:
    """Lift the lock-out of these users' logins before it runs out; audited."""
    from axes.utils import reset

    count = sum(reset(username=user.username) for user in users)
    audit_event_record(kind=AuditKind.LOGIN_UNLOCKED, actor=actor, detail={"users": [u.username for u in users]})
    return count
