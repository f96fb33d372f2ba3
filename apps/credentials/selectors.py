"""Reads of the credentials: the public keys document a verifier needs."""

import datetime as dt
import threading

from django.conf import settings
from django.db.models import Prefetch, Q

from apps.core.clock import LOCAL_TZ

from .models import TrustedIssuer, TrustedKey
from .signing import keys_published


def _entry(kid: str, alg: str, public_key: str, valid_from: dt.datetime, valid_to: dt.datetime | None) -> dict:
    """One published key; its validity in Beijing time, as every time of the API."""
    return {
        "kid": kid,
        "alg": str(alg),
        "public_key": public_key,
        "valid_from": valid_from.astimezone(LOCAL_TZ).isoformat(),
        "valid_to": valid_to.astimezone(LOCAL_TZ).isoformat() if valid_to else None,
    }


def keys_document(t: dt.datetime) -> dict:
    """The document of `GET /api/v1/keys/`, the one input of the offline verifier besides the
    clock: this region's keys and the trusted regions' keys, each with its validity. A key whose
    `valid_to` has passed is left out (nothing it signed may verify any more); one whose
    `valid_from` is still ahead is already in, so checkpoints hold it before its first use. Two
    queries, whatever the size of the trust list."""
    live = Q(valid_to__isnull=True) | Q(valid_to__gt=t)
    issuers = TrustedIssuer.objects.exclude(region=settings.CREDENTIAL_ISSUER).prefetch_related(
        Prefetch("keys", queryset=TrustedKey.objects.filter(live).order_by("-valid_from", "kid"))
    )
    return {
        "issuer": settings.CREDENTIAL_ISSUER,
        "name": settings.CREDENTIAL_ISSUER_NAME,
        "keys": [
            _entry(k.kid, k.alg, k.public_pem, k.valid_from, k.valid_to)
            for k in keys_published(settings.CREDENTIAL_SIGNING_KEYS, t)
        ],
        "trusted": [
            {
                "issuer": i.region,
                "name": i.name,
                "keys": [_entry(k.kid, k.alg, k.public_key, k.valid_from, k.valid_to) for k in i.keys.all()],
            }
            for i in issuers
        ],
    }


# The keys document changes a few times a year; verifying costs less than reading it (two queries).
# Each process keeps the last one for this long: a trust-list change made in another process is in
# force within these seconds (one made in this process at once: `keys_document_forget`).
KEYS_CACHE_SECONDS = 5
_cached: dict = {}
_lock = threading.Lock()


def keys_document_cached(t: dt.datetime) -> dict:
    """`keys_document(t)`, reused for KEYS_CACHE_SECONDS of `t` (never for an earlier `t`, nor
    across a change of the signing keys' setting)."""
    marker = id(settings.CREDENTIAL_SIGNING_KEYS), settings.CREDENTIAL_ISSUER
    with _lock:
        entry = _cached.get("doc")
    if entry is not None:
        at, cached_marker, document = entry
        if cached_marker == marker and at <= t < at + dt.timedelta(seconds=KEYS_CACHE_SECONDS):
            return document
    document = keys_document(t)
    with _lock:
        _cached["doc"] = (t, marker, document)
    return document


def keys_document_forget() -> None:
    with _lock:
        _cached.clear()
