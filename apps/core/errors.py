"""Errors raised by services, translated to HTTP by the API and to messages by the admin."""

from django.core.exceptions import ValidationError

__all__ = [
    "ValidationError",
    "DomainError",
    "NotPermitted",
    "NotFoundInJurisdiction",
    "Conflict",
    "Busy",
    "TooManyLookups",
]


class DomainError(Exception):
    """A business rule refuses the request (HTTP 400 / 409)."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class NotPermitted(DomainError):
    """The actor's role may not do this (HTTP 403)."""

    status_code = 403


class NotFoundInJurisdiction(DomainError):
    """The object does not exist or lies outside the actor's jurisdiction (HTTP 404)."""

    status_code = 404


class Conflict(DomainError):
    """The request is valid but the record has moved on: the popup was released meanwhile, the
    order has ended, the appeal was closed, the guest is already checked in (HTTP 409)."""

    status_code = 409


class Busy(DomainError):
    """Others' writes kept the request waiting too long (batches of evidence being received, say):
    nothing was done; send the same request again in a moment (HTTP 503)."""

    status_code = 503


class TooManyLookups(DomainError):
    """The actor has looked persons up by ID number faster than their work needs (SPEC §7; HTTP
    429 with `Retry-After: retry_after`). Raised by `apps.accounts.throttling.lookup_check`."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, code: str = "throttled"):
        super().__init__(message, code=code)
        self.retry_after = retry_after
