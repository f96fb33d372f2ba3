from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.casework import admin_views as casework_admin_views
from apps.core import health, metrics

urlpatterns = [
    # The casework screens (work queue, person actions) and the login that lands community
    # workers on their queue, inside the admin, ahead of its own URLs.
    path("admin/login/", casework_admin_views.login, name="portal-login"),
    path("admin/casework/", include("apps.casework.admin_urls")),
    path("admin/second-factor/", include("apps.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Probes without a token (apps.core.health) and the metrics, for a bearer of METRICS_TOKEN only.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("apps.core.urls")),
]

# JSON under /api/, the admin's page elsewhere (only when DEBUG is off: Django's debug page wins).
handler404 = "apps.core.api.not_found"
