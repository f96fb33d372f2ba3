"""The project's management commands: Django's `BaseCommand`, run as origin `command`
(apps.core.origin), so what a command changes is audited and historised as coming from one."""

from django.core.management import base

from apps.core.origin import Origin, origin

CommandError = base.CommandError


class BaseCommand(base.BaseCommand):
    def execute(self, *args, **options):
        with origin(Origin.COMMAND):
            return super().execute(*args, **options)
