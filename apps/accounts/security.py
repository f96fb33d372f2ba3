"""The client's address, as the login lock-out (django-axes) counts failures by it."""

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind `TRUSTED_PROXY_COUNT` proxies that each append the address that
    connected to them to X-Forwarded-For, the entry the outermost proxy appended: the n-th from the
    right. Entries further left were written by the client and are never trusted."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return chain[-proxies] if len(chain) >= proxies else remote
