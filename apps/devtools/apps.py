from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevtoolsConfig(AppConfig):
    """Tools for developers, never for the service itself: the demo world (`seed_demo`), the
    city-scale population (`generate_population`) and the benchmark harness (`bench`,
    `python -m apps.devtools.bench`). The top layer: it may import every app, and nothing imports
    it (the import-linter contract in pyproject.toml)."""

    name = "apps.devtools"
    label = "devtools"
    verbose_name = _("Developer tools")
