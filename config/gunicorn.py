"""gunicorn configuration for production: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be set from the environment (GUNICORN_*). Threads serve the status look-ups, which
wait on the database; a worker is recycled after some thousands of requests so no slow leak grows;
requests that hang past the timeout are killed rather than holding a worker.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


wsgi_app = "config.wsgi:application"
# Only the reverse proxy on this host reaches gunicorn: the portal trusts its X-Forwarded-Proto and
# X-Forwarded-For, which a client connecting directly could forge.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# Bounded request lines and headers: a client cannot exhaust a worker's memory with them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# The proxy in front terminates TLS and sets X-Forwarded-Proto (settings.SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# The access log carries the path and status but never the query string: a status look-up's
# query string holds an ID number.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
preload_app = True
# gunicorn serves production: its settings unless the environment names others.
raw_env = [f"DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE', 'config.settings.production')}"]
# Probes and scrapes are not written to the access log; a dead worker's live gauges leave the
# metrics (prometheus_client multiprocess mode, PROMETHEUS_MULTIPROC_DIR): config/gunicorn_hooks.py.
logger_class = "config.gunicorn_hooks.QuietProbesLogger"
from config.gunicorn_hooks import child_exit  # noqa: E402, F401 - a server hook, found by its name
