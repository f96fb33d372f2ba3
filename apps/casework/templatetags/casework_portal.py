"""Template tags of the casework screens: the work-queue link for the roles that have a queue,
and small formatting helpers."""

from django import template
from django.urls import reverse

from apps.accounts import access
from apps.status.engine.registry import circled as registry_circled

register = template.Library()


@register.simple_tag(takes_context=True)
def queue_url(context) -> str:
    """The work queue's address when the user's role works from one (community workers, CDC)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return ""
    from apps.casework.admin_views import QUEUE_ACTION

    return reverse("casework_admin:queue") if access.may(user, QUEUE_ACTION) else ""


@register.filter
def circled(number) -> str:
    """3 → ③."""
    return registry_circled(number)
