"""Errors raised by services, translated to HTTP by the API and to messages by the admin."""

from django.core.exceptions import ValidationError

__all__ = ["ValidationError", "DomainError", "NotPermitted", "NotFoundInJurisdiction"]


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
