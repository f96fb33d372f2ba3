"""`Authorization: Token <token>` against hashed, revocable, expiring API tokens.

With STAFF_OTP_REQUIRED, a token is no way around the second factor: a staff user whose browser
session must pass it (`access.needs_second_factor`: the roles that see unmasked data, superusers)
can use a token only once they have enrolled an authenticator (a confirmed TOTP device). A token
cannot ask for a code on every call, so enrolment is what it checks: the same person has shown
they hold the device at a login. Until then every call answers 403 saying to enrol; partner
systems and the other roles are not concerned."""

import functools
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import access
from .models import ApiToken, Organisation, PartnerSystem, User
from .services import token_digest

# The per-process cache of authenticated tokens (digest -> the time it was read, the user, the
# token, whether the second factor is missing). An entry is used for at most
# API_TOKEN_CACHE_SECONDS (settings, 1 s by default): a token revoked or expired, a user or partner
# deactivated, an authenticator removed takes effect in every web process within that bound, and a
# look-up at a gateway's rate reads its token once a second per process instead of on every call.
# Past MAX_CACHED entries (more distinct tokens within a second than any deployment has callers) the
# cache is emptied: it never grows with a guesser's made-up tokens, which are never cached anyway.
_cache: dict[str, tuple[float, User, ApiToken, bool]] = {}
MAX_CACHED = 10_000


def token_cache_clear() -> None:
    _cache.clear()


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        digest = token_digest(key)
        ttl = settings.API_TOKEN_CACHE_SECONDS
        moment = time.time()
        entry = _cache.get(digest) if ttl > 0 else None
        now = timezone.now()
        if entry is not None and moment - entry[0] < ttl and entry[0] <= moment:
            _read_at, user, token, no_second_factor = entry
            if token.expires_at is not None and token.expires_at <= now:  # expiry is exact, cached or not
                _cache.pop(digest, None)
                raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        else:
            token = token_usable(digest, now)
            if token is None or not token.user.is_active:
                _cache.pop(digest, None)
                raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
            user, no_second_factor = token.user, second_factor_missing(token.user)
            if ttl > 0:
                if len(_cache) >= MAX_CACHED:
                    _cache.clear()
                _cache[digest] = (moment, user, token, no_second_factor)
            # Touch last_used_at at most once a minute: millions of look-ups must not each write.
            if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
                token.last_used_at = now
        if no_second_factor:
            raise exceptions.PermissionDenied(
                _("Enrol the second factor (an authenticator app) at the portal's login before using an API token.")
            )
        return user, token


def token_usable(digest: str, at) -> ApiToken | None:
    """The token with this digest that authenticates at `at` (`ApiToken.objects.usable`), with its
    user, the user's organisation and partner system: what
    `ApiToken.objects.select_related("user", "user__organisation", "user__partner").usable(at)`
    reads, in one statement whose text never changes. Building that query through the ORM cost
    more than running it (0.58 ms of compiling per request); this text is built once per process
    and, one text for every call, prepared by the database (DATABASES OPTIONS)."""
    sql, parts = _token_reader(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, connection.ops.adapt_datetimefield_value(at)])
        row = cursor.fetchone()
    if row is None:
        return None
    objects = []
    for model, names, start, converters in parts:
        values = list(row[start : start + len(names)])
        if values[0] is None:  # the LEFT JOINs: no organisation, no partner system
            objects.append(None)
            continue
        for i, column, functions in converters:
            for convert in functions:
                values[i] = convert(values[i], column, connection)
        objects.append(model.from_db(connection.alias, names, values))
    token, user, organisation, partner = objects
    ApiToken.user.field.set_cached_value(token, user)
    User.organisation.field.set_cached_value(user, organisation)
    User.partner.related.set_cached_value(user, partner)
    if partner is not None:
        PartnerSystem.user.field.set_cached_value(partner, user)
    return token


@functools.cache
def _token_reader(vendor: str):
    qn = connection.ops.quote_name
    tables = ((ApiToken, "t"), (User, "u"), (Organisation, "o"), (PartnerSystem, "p"))
    columns, parts = [], []
    for model, alias in tables:
        fields = list(model._meta.concrete_fields)
        converters = []
        for i, f in enumerate(fields):
            column = f.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if functions:
                converters.append((i, column, functions))
        # The primary key first: None in it says a LEFT JOIN found no row.
        pk_first = sorted(range(len(fields)), key=lambda i: not fields[i].primary_key)
        fields = [fields[i] for i in pk_first]
        converters = [(pk_first.index(i), column, functions) for i, column, functions in converters]
        parts.append((model, [f.attname for f in fields], len(columns), converters))
        columns += [f"{alias}.{qn(f.column)}" for f in fields]
    token_f, user_f = ApiToken._meta, User._meta
    partner_user = PartnerSystem._meta.get_field("user").column
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(token_f.db_table)} t"
        f" INNER JOIN {qn(user_f.db_table)} u ON u.{qn(user_f.pk.column)} = t.{qn(token_f.get_field('user').column)}"
        f" LEFT OUTER JOIN {qn(Organisation._meta.db_table)} o"
        f" ON o.{qn(Organisation._meta.pk.column)} = u.{qn(user_f.get_field('organisation').column)}"
        f" LEFT OUTER JOIN {qn(PartnerSystem._meta.db_table)} p ON p.{qn(partner_user)} = u.{qn(user_f.pk.column)}"
        f" WHERE t.{qn('digest')} = %s AND t.{qn('revoked_at')} IS NULL"
        f" AND (t.{qn('expires_at')} IS NULL OR t.{qn('expires_at')} > %s)"
    )
    return sql, parts


def second_factor_missing(user) -> bool:
    """Whether this user must pass the second factor (STAFF_OTP_REQUIRED and their role) and has
    no confirmed device to pass it with."""
    return (
        settings.STAFF_OTP_REQUIRED and access.needs_second_factor(user) and not user_has_device(user, confirmed=True)
    )
