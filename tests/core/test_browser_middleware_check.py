"""apps.core.checks stands in for the checks BrowserMiddleware silences (admin.E408-E410,
axes.W002, security.W003): it fails when the middleware they look for is in neither list."""

from apps.core.checks import browser_middleware_check


def ids(errors) -> list[str]:
    return [e.id for e in errors]


def test_the_project_passes():
    assert browser_middleware_check() == []


def test_csrf_missing_from_the_browser_middleware_is_an_error(settings):
    settings.BROWSER_MIDDLEWARE = [p for p in settings.BROWSER_MIDDLEWARE if "csrf" not in p]
    errors = browser_middleware_check()
    assert ids(errors) == ["core.E001"] and "CsrfViewMiddleware" in errors[0].msg


def test_without_the_wrapper_the_middleware_must_be_in_middleware_itself(settings):
    settings.MIDDLEWARE = [p for p in settings.MIDDLEWARE if not p.endswith("BrowserMiddleware")]
    assert ids(browser_middleware_check()) == ["core.E001"]
    settings.MIDDLEWARE = settings.MIDDLEWARE + list(settings.BROWSER_MIDDLEWARE)
    assert browser_middleware_check() == []


def test_axes_must_come_last(settings):
    settings.BROWSER_MIDDLEWARE = ["axes.middleware.AxesMiddleware", *settings.BROWSER_MIDDLEWARE[:-1]]
    assert ids(browser_middleware_check()) == ["core.E002"]
