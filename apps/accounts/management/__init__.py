"""Management commands of the accounts app, and what they share."""

from django.core.exceptions import ValidationError


def validation_error_message(exc: ValidationError) -> str:
    """One line naming each field a service rejected, for a CommandError: `kind: Unknown kind x.`"""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)
