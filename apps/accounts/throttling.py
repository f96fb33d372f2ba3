"""Rate limits (SPEC §7: "nobody can test ID numbers faster than their work needs"; API.md: every
scope and role is rate-limited, 429 with `Retry-After` over the limit).

Two doors, one counting engine:

- `ApiThrottle`, installed once for every API view (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES),
  keyed by the token's user: a partner per scope the view serves (feeds, status, restrictions), a
  staff user per role, an anonymous caller per client address. Staff requests that test an ID
  number (`IDENTITY_ROUTES`: a status look-up by ID, a person upsert, an appeal opened, a hotel
  check-in, ...) also count against a stricter per-user budget, `API_THROTTLE_RATES["identity"]`.
- `lookup_check(user, kind)`, called by the admin forms that look a person up by ID number (the
  hotline's intake check, a hotel check-in or guest-list import, the persons search by ID, the
  full identity page). Over `LOOKUP_LIMITS[kind]` it locks the user out of that kind of look-up
  for `LOOKUP_LOCKOUT_SECONDS` by raising `TooManyLookups`, whose message says when to try again.

Counters are fixed windows (`<name>:<user>:<window index>`) in the cache named by THROTTLE_CACHE:
Redis in production (one `SET NX EX` + `INCR` pipeline per counter, every counter of a request in
the same pipeline, so a request costs exactly one cache round trip however many limits apply),
the process's local memory in development and tests. A fixed window lets a client send up to twice
its rate across a window boundary; that is the price of one round trip and no per-request list of
timestamps (DRF's own SimpleRateThrottle keeps a list of every request's time per key: 2,000
floats read and written back per look-up at a gateway's rate).
"""

import datetime as dt
import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle

from apps.core import metrics
from apps.core.clock import LOCAL_TZ
from apps.core.errors import TooManyLookups

from .rates import Rate, parse_rates
from .security import client_ip

logger = logging.getLogger(__name__)

__all__ = ["ApiThrottle", "IDENTITY_ROUTES", "Rate", "lookup_check", "parse_rates"]

# What a cache that cannot be reached raises: redis-py's errors (a subclass of Exception, not of
# OSError) and the socket's own.
try:
    from redis.exceptions import RedisError as _RedisError
except ImportError:  # pragma: no cover - redis is a runtime requirement
    _RedisError = OSError
CACHE_ERRORS = (_RedisError, OSError)

# --- counting ----------------------------------------------------------------------------------------


def _cache():
    return caches[settings.THROTTLE_CACHE]


def _hit(counters: list[tuple[str, int]], *, peek: str | None = None, by: int = 1) -> tuple[int | None, list[int]]:
    """Adds `by` (one) to each counter `(key, window seconds)` and answers the new counts, together with
    the value of the key `peek` (a lock-out's end, or None). One cache round trip on Redis.

    A cache that cannot be reached counts nothing (the request goes through, and the error is
    logged): the health code of a city must not stop with its rate-limit counters. The socket
    timeouts of CACHES bound what that costs a request."""
    try:
        return _hit_cache(counters, peek=peek, by=by)
    except CACHE_ERRORS:
        logger.error("Rate-limit cache unavailable: request let through uncounted", exc_info=True)
        return None, [0 for _counter in counters]


def _hit_cache(counters: list[tuple[str, int]], *, peek: str | None, by: int) -> tuple[int | None, list[int]]:
    cache = _cache()
    if isinstance(cache, RedisCache):
        names = [cache.make_and_validate_key(key) for key, _window in counters]
        client = cache._cache.get_client(names[0] if names else None, write=True)
        pipe = client.pipeline(transaction=False)
        if peek is not None:
            pipe.get(cache.make_and_validate_key(peek))
        for name, (_key, window) in zip(names, counters, strict=True):
            pipe.set(name, 0, ex=window + 1, nx=True)
            pipe.incr(name, by)
        results = pipe.execute()
        peeked = None
        if peek is not None:
            raw, results = results[0], results[1:]
            peeked = int(raw) if raw is not None else None
        return peeked, [int(count) for count in results[1::2]]
    peeked = cache.get(peek) if peek is not None else None
    counts = []
    for key, window in counters:
        if cache.add(key, by, window + 1):
            counts.append(by)
            continue
        try:
            counts.append(cache.incr(key, by))
        except ValueError:  # expired between add() and incr()
            cache.add(key, by, window + 1)
            counts.append(by)
    return peeked, counts


def _window_counters(name: str, rates: list[Rate], now: float) -> list[tuple[str, int]]:
    return [(f"rl:{name}:{rate.seconds}:{int(now // rate.seconds)}", rate.seconds) for rate in rates]


def _over(rates: list[Rate], counts: list[int], now: float) -> float | None:
    """Seconds until every exceeded window has ended, or None when no rate is exceeded."""
    waits = [
        (now // rate.seconds + 1) * rate.seconds - now
        for rate, count in zip(rates, counts, strict=True)
        if count > rate.count
    ]
    return max(waits) if waits else None


# --- the API -----------------------------------------------------------------------------------------

# The API routes (URL name, method) whose request tests an ID number: a staff caller learns from the
# answer whether the number belongs to a known person. tests/accounts/test_throttling.py checks that
# every operation of the published schema taking an `id_number` is named here.
IDENTITY_ROUTES = frozenset(
    {
        ("status", "GET"),
        ("persons", "POST"),
        ("appeals", "POST"),
        ("hotel-stays", "POST"),
        ("community-registrations", "POST"),
        ("credential", "GET"),
        ("credentials", "GET"),
        ("credentials", "POST"),
    }
)


def _view_scopes(request, view) -> tuple:
    scopes = getattr(view, "required_scopes", ())
    if isinstance(scopes, dict):
        scopes = scopes.get(request.method, ())
    return tuple(scopes)


def _rate_spec(name: str, *fallbacks: str):
    rates = settings.API_THROTTLE_RATES
    for key in (name, *fallbacks):
        if key in rates:
            return rates[key]
    return None


class ApiThrottle(BaseThrottle):
    """Every API request, after authentication and permissions: one budget for what the caller is
    (partner scope, staff role, anonymous address), and for staff a second, stricter one for
    requests that test an ID number. Rates: `API_THROTTLE_RATES` (config/settings/base.py)."""

    def budgets(self, request, view) -> list[tuple[str, list[Rate]]]:
        user = request.user
        if user is None or not user.is_authenticated:
            return [(f"anon:{client_ip(request)}", parse_rates(_rate_spec("anon")))]
        if getattr(user, "is_partner", False):
            from .permissions import partner_scopes

            held = partner_scopes(user)
            scope = next((s for s in _view_scopes(request, view) if s in held), "partner")
            return [(f"{scope}:{user.pk}", parse_rates(_rate_spec(scope, "partner")))]
        role = user.role or "superuser"
        budgets = [(f"staff:{user.pk}", parse_rates(_rate_spec(role, "staff")))]
        match = getattr(request, "resolver_match", None)
        if match is not None and (match.url_name, request.method) in IDENTITY_ROUTES:
            budgets.append((f"identity:{user.pk}", parse_rates(_rate_spec(f"identity.{role}", "identity"))))
        return budgets

    def allow_request(self, request, view) -> bool:
        now = time.time()
        rates, counters, kinds = [], [], set()
        for name, budget in self.budgets(request, view):
            kinds.add(name.split(":", 1)[0])
            rates += budget
            counters += _window_counters(f"api:{name}", budget, now)
        if not counters:
            return True
        _peeked, counts = _hit(counters)
        self._wait = _over(rates, counts, now)
        if self._wait is not None:  # the kind of budget, never who (/metrics)
            metrics.throttled(",".join(sorted(kinds)))
        return self._wait is None

    def wait(self):
        return math.ceil(self._wait) if self._wait else None


# --- admin look-up forms -----------------------------------------------------------------------------


def lookup_check(user, kind: str, count: int = 1) -> None:
    """Counts one look-up of a person by ID number that `user` makes through an admin form of
    `kind` ("appeal_preview", "hotel_checkin", "guest_import", "person_search", "full_identity",
    ...), and raises `TooManyLookups` when that is more than `LOOKUP_LIMITS[kind]` (else
    `LOOKUP_LIMITS["default"]`, e.g. 60 per 10 minutes). Over the limit the user is locked out of
    that kind of look-up for `LOOKUP_LOCKOUT_SECONDS` from then on; the error's message says until
    when, and `retry_after` holds the seconds. Call it before the look-up with the number of ID
    numbers it tests (`count`: an import of 40 guests counts 40). One cache round trip."""
    limits = settings.LOOKUP_LIMITS
    rates = parse_rates(limits.get(kind, limits.get("default")))
    if not rates:
        return
    now = time.time()
    who = getattr(user, "pk", None) or "anon"
    lock_key = f"rl:lock:{kind}:{who}"
    locked_until, counts = _hit(_window_counters(f"lookup:{kind}:{who}", rates, now), peek=lock_key, by=count)
    if locked_until is not None and locked_until > now:
        metrics.throttled(f"lookup:{kind}")
        raise _too_many(locked_until - now)
    if _over(rates, counts, now) is not None:
        metrics.throttled(f"lookup:{kind}")
        lockout = settings.LOOKUP_LOCKOUT_SECONDS or _over(rates, counts, now)
        try:
            _cache().set(lock_key, math.ceil(now + lockout), math.ceil(lockout) + 1)
        except CACHE_ERRORS:  # the window's own count still refuses until it ends
            logger.error("Rate-limit cache unavailable: lock-out not recorded", exc_info=True)
        raise _too_many(lockout)


def _too_many(seconds: float) -> TooManyLookups:
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        wait = ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    else:
        minutes = math.ceil(seconds / 60)
        wait = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    at = dt.datetime.fromtimestamp(time.time() + seconds, LOCAL_TZ)
    return TooManyLookups(
        _("Too many look-ups of persons by ID number. Try again at %(time)s (in %(wait)s).")
        % {"time": at.strftime("%H:%M:%S"), "wait": wait},
        retry_after=seconds,
    )
