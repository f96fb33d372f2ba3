"""Production settings (issue: hardening): `check --deploy` is clean with production environment
variables, and the settings refuse to start with any development default. Each case runs
`manage.py check` in a fresh process, as a deployment would."""

import base64
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from apps.credentials.signing import key_generate

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "PERSONAL_DATA_KEY": secrets.token_urlsafe(40),
    "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    "ALLOWED_HOSTS": "portal.example.org",
    "DATABASE_URL": "postgres://portal@db.example.org:5432/portal",
    "CELERY_BROKER_URL": "redis://broker.example.org:6379/0",
    "REDIS_CACHE_URL": "redis://broker.example.org:6379/1",
    "TRUSTED_PROXY_COUNT": "1",
    # A credential signing key of this deployment (apps.credentials; the refusal of the development
    # key: tests/credentials/test_production_refusal.py).
    "CREDENTIAL_SIGNING_KEYS": json.dumps(
        [key_generate(valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))], ensure_ascii=False
    ),
}
WEAKENING = (
    "AXES_ENABLED",
    "STAFF_OTP_REQUIRED",
    "SESSION_IDLE_SECONDS",
    "SESSION_COOKIE_AGE",
    "API_TOKEN_DAYS",
    "PARTNER_TOKEN_DAYS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "INSECURE_OVERRIDES",
)


def check(overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in GOOD and k not in ("DEBUG", "PERSONAL_DATA_OLD_KEYS", "AUDIT_OLD_PUBLIC_KEYS", *WEAKENING)
    }
    env.update(GOOD)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_variables():
    result = check({}, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_turns_the_protections_on():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.STAFF_OTP_REQUIRED, s.API_TOKEN_DAYS, s.AXES_ENABLED,"
        " s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))"
    )
    env = {k: v for k, v in {**os.environ, **GOOD}.items() if k not in WEAKENING}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-8:] == ["False", "True", "True", "True", "True", "90", "True", "True"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-secret-key-change-me-0123456789abcdef"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PERSONAL_DATA_KEY": None}, "PERSONAL_DATA_KEY"),
        ({"PERSONAL_DATA_OLD_KEYS": "dev-insecure-personal-data-key-change-me"}, "PERSONAL_DATA_KEY"),
        ({"PERSONAL_DATA_KEY": "too-short"}, "PERSONAL_DATA_KEY"),
        ({"AUDIT_SIGNING_KEY": None}, "AUDIT_SIGNING_KEY"),
        ({"AUDIT_SIGNING_KEY": "ZGV2LWluc2VjdXJlLWF1ZGl0LXNpZ25pbmcta2V5LTA="}, "AUDIT_SIGNING_KEY"),
        ({"AUDIT_SIGNING_KEY": "not-a-key"}, "AUDIT_SIGNING_KEY"),
        ({"AUDIT_OLD_PUBLIC_KEYS": "bm90IDMyIGJ5dGVz"}, "AUDIT_OLD_PUBLIC_KEYS"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
        ({"DEBUG": "1"}, "DEBUG"),
        ({"AXES_ENABLED": "false"}, "AXES_ENABLED"),
        ({"TRUSTED_PROXY_COUNT": None}, "TRUSTED_PROXY_COUNT"),
        ({"STAFF_OTP_REQUIRED": "false"}, "STAFF_OTP_REQUIRED"),
        ({"SESSION_IDLE_SECONDS": "0"}, "SESSION_IDLE_SECONDS"),
        ({"SESSION_COOKIE_AGE": str(24 * 3600)}, "SESSION_COOKIE_AGE"),
        ({"API_TOKEN_DAYS": "0"}, "API_TOKEN_DAYS"),
        ({"PARTNER_TOKEN_DAYS": "0"}, "PARTNER_TOKEN_DAYS"),
        ({"SECURE_SSL_REDIRECT": "false"}, "SECURE_SSL_REDIRECT"),
        ({"SECURE_HSTS_SECONDS": "3600"}, "SECURE_HSTS_SECONDS"),
    ],
)
def test_it_refuses_to_start_with_a_development_default(overrides, named):
    result = check(overrides)
    assert result.returncode != 0
    assert "Production settings refused" in result.stderr
    assert named in result.stderr.split("Production settings refused", 1)[1]


def test_a_weakened_protection_is_accepted_only_when_named_in_insecure_overrides():
    assert check({"STAFF_OTP_REQUIRED": "false", "INSECURE_OVERRIDES": "STAFF_OTP_REQUIRED"}).returncode == 0
    refused = check({"STAFF_OTP_REQUIRED": "false", "API_TOKEN_DAYS": "0", "INSECURE_OVERRIDES": "STAFF_OTP_REQUIRED"})
    assert refused.returncode != 0 and "API_TOKEN_DAYS" in refused.stderr


def test_gunicorn_config_loads_and_serves_production_settings():
    env = {**os.environ, **GOOD}
    env.pop("DJANGO_SETTINGS_MODULE")
    code = (
        "import runpy; c = runpy.run_path('config/gunicorn.py');"
        "print(c['worker_class'], c['timeout'], c['raw_env'][0], '%(q)s' in c['access_log_format'])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["gthread", "30", "DJANGO_SETTINGS_MODULE=config.settings.production", "False"]
