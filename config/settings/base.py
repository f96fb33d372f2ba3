"""Settings of the Health Kit case portal, all read from the environment.

The embedded default (no environment at all) is a SQLite file inside the project and Celery tasks
run eagerly in-process; production and CI set DATABASE_URL and CELERY_BROKER_URL.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

# Development defaults. config/settings/production.py refuses to start with any of them.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"
DEV_PERSONAL_DATA_KEY = "dev-insecure-personal-data-key-change-me"
# The base64 of the 32 bytes "dev-insecure-audit-signing-key-0": an Ed25519 seed anyone can read.
DEV_AUDIT_SIGNING_KEY = "ZGV2LWluc2VjdXJlLWF1ZGl0LXNpZ25pbmcta2V5LTA="

SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# The key that protects personal data: a keyed hash (HMAC) of every ID and phone number for
# look-ups and an encryption key for the values themselves, both derived from this one secret.
PERSONAL_DATA_KEY = env("PERSONAL_DATA_KEY", default=DEV_PERSONAL_DATA_KEY)
# Older keys still able to decrypt (rotation): comma-separated, newest first.
PERSONAL_DATA_OLD_KEYS = env.list("PERSONAL_DATA_OLD_KEYS", default=[])

# The key that signs the sealed audit's checkpoints (apps.audit.signing, README: Sealed audit): an
# Ed25519 private key as PEM (PKCS#8) or the base64 of its 32-byte seed. The public keys of retired
# signing keys (PEM or base64 of 32 bytes, comma-separated) keep older checkpoints verifiable.
AUDIT_SIGNING_KEY = env("AUDIT_SIGNING_KEY", default=DEV_AUDIT_SIGNING_KEY)
AUDIT_OLD_PUBLIC_KEYS = env.list("AUDIT_OLD_PUBLIC_KEYS", default=[])

# Signed status credentials (apps.credentials, README: Signed status credentials). The issuing
# region's GB/T 2260 code and name, and the signing keys: a JSON list of {"kid", "alg" (ES256 or
# EdDSA), "private_key" (PEM), "valid_from", "valid_to" (optional)} from `manage.py credential_keygen`;
# the newest in force signs, every one not past its valid_to is published. Empty: the development
# key (apps.credentials.signing), which production settings refuse.
CREDENTIAL_ISSUER = env("CREDENTIAL_ISSUER", default="110000")
CREDENTIAL_ISSUER_NAME = env("CREDENTIAL_ISSUER_NAME", default="北京市")
CREDENTIAL_SIGNING_KEYS = env.json("CREDENTIAL_SIGNING_KEYS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "apps.core",
    "apps.accounts",
    "apps.areas",
    "apps.policy",
    "apps.people",
    "apps.evidence",
    "apps.status",
    "apps.casework",
    "apps.hotels",
    "apps.appeals",
    "apps.reviews",
    "apps.credentials",
    "apps.audit",
    "apps.retention",
    # Developer tools (seed_demo, generate_population, bench): the top layer, imported by nothing.
    "apps.devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Where a change came from (apps.core.origin): `admin` under /admin/, `api` under /api/.
    "apps.core.middleware.OriginMiddleware",
    # Before anything reads the body or queries with the input (apps.core.middleware): under /api/
    # a body over API_MAX_BODY_BYTES answers 413 in JSON and every answer is `no-store`; elsewhere
    # a NUL in the path or a parameter answers 404 / 400 instead of a database error.
    "apps.core.middleware.ApiEdgeMiddleware",
    "apps.core.middleware.NulInputMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # BROWSER_MIDDLEWARE, as if listed here, for every request but a token API request (under
    # /api/ with `Authorization: Token …`), which has no session, cookie, login or page.
    "apps.core.middleware.BrowserMiddleware",
]
BROWSER_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the TOTP second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends idle sessions; staff of roles that see unmasked personal data must pass the second
    # factor first (STAFF_OTP_REQUIRED).
    "apps.accounts.middleware.SecondFactorMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lock-out response.
    "axes.middleware.AxesMiddleware",
]
# The admin's, django-axes' and Django's CSRF checks look for their middleware in MIDDLEWARE itself;
# they are in BROWSER_MIDDLEWARE, in the order they ask for, which apps.core.checks checks instead
# (core.E001/E002; tests/core/test_browser_middleware_check.py).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "axes.W002", "security.W003"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Two database roles (README: Database roles). The app connects as DATABASE_URL's role, which may
# only read and write rows; DATABASE_OWNER_URL, when set, is the migration owner of the same
# database: `manage.py migrate` runs on it (the `owner` alias) and grants the app role its
# privileges. Unset (the SQLite first run, a single-role set-up), migrations run on `default`.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if env("DATABASE_OWNER_URL", default="") not in ("", env("DATABASE_URL", default="")):
    DATABASES["owner"] = env.db("DATABASE_OWNER_URL")
# The role `migrate` grants the app's privileges to: DATABASE_URL's user when an owner is set.
DATABASE_APP_ROLE = env(
    "DATABASE_APP_ROLE", default=DATABASES["default"].get("USER", "") if "owner" in DATABASES else ""
)
for _database in DATABASES.values():
    _database["ATOMIC_REQUESTS"] = False
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the in-process Celery tasks and the web server read while one writes; with WAL,
        # synchronous=NORMAL is still crash-safe and spares an fsync on every commit.
        _database.setdefault("OPTIONS", {})
        _database["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        _database["OPTIONS"].setdefault("timeout", 20)
    else:
        _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        # Server-side binding (psycopg's own cursors): a statement's text is the same for every
        # value, so psycopg prepares it after DATABASE_PREPARE_THRESHOLD runs on a connection and the
        # database plans the look-ups' few statements once per connection, not per request (issue
        # 16: 0.51 -> 0.19 ms of database time a look-up). Prepared statements live in the backend
        # a connection holds: behind PgBouncer in transaction mode, set DATABASE_SERVER_SIDE_BINDING=0.
        if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
            _database.setdefault("OPTIONS", {})
            _database["OPTIONS"].setdefault("server_side_binding", True)
            _database["OPTIONS"].setdefault("prepare_threshold", env.int("DATABASE_PREPARE_THRESHOLD", default=5))
# Read replicas (README: Read replicas): DATABASE_REPLICA_URLS, comma-separated, become the aliases
# replica_0..n, which serve status look-ups through apps.core.routers.ReplicaRouter while they lag
# the primary by at most DATABASE_REPLICA_MAX_LAG seconds (apps.core.replicas). Empty: none. Tests
# never create them (they mirror `default`, whose test database a streaming replica carries too).
DATABASE_REPLICAS = []
for _i, _url in enumerate(u.strip() for u in env("DATABASE_REPLICA_URLS", default="").split(",") if u.strip()):
    DATABASES[f"replica_{_i}"] = {
        **env.db_url_config(_url),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        "TEST": {"MIRROR": "default"},
    }
    # A replica whose host stopped answering fails its check in seconds, not after the kernel's
    # SYN retries (two minutes, past gunicorn's timeout); a read stuck on it is cancelled likewise.
    _options = DATABASES[f"replica_{_i}"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2))
    _options.setdefault(
        "options", f"-c statement_timeout={env.int('DATABASE_REPLICA_STATEMENT_TIMEOUT_MS', default=2000)}"
    )
    DATABASE_REPLICAS.append(f"replica_{_i}")
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=1.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=0.25)
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=5.0)
DATABASE_ROUTERS = ["apps.core.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses a locked-out username/address before the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The admin screens of each role (SPEC §7), from apps.accounts.access.
    "apps.accounts.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Staff sessions: one working shift at most, ended with the browser, and the cookie never readable
# by scripts. SESSION_IDLE_SECONDS ends a session left alone (apps.accounts.middleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)

# Login protection (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from one
# address, that pair is locked out for AXES_COOLOFF_TIME hours, counted again from every further try
# during the lock-out (django-axes' default: guessing on does not wait it out); an administrator can lift it early
# (`manage.py axes_reset_username USERNAME`). Attempts are kept in the database, so every web
# process sees them.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address (apps.accounts.security.client_ip): REMOTE_ADDR when the portal is reached
# directly; behind TRUSTED_PROXY_COUNT reverse proxies, the address the outermost of them appended to
# X-Forwarded-For, counted from the right, so an address the client wrote there itself is never
# taken. Production requires it (the portal runs behind the TLS proxy).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.accounts.security.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]

# Second factor (django-otp, TOTP): any staff user may enrol an authenticator app; with
# STAFF_OTP_REQUIRED the roles that see unmasked personal data (apps.accounts.access.
# SECOND_FACTOR_ROLES) and superusers must enrol and pass it before any admin page. On by default
# in production (config/settings/production.py); off for the embedded demo.
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Health Kit portal")
# Nobody, superusers included, reads another user's TOTP secret or its QR code in the admin (the
# device pages answer 403 instead of showing it; a lost phone is reset, never copied).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# API tokens: staff tokens expire after API_TOKEN_DAYS (0: never); partner tokens after
# PARTNER_TOKEN_DAYS. Rotation keeps the old token valid for API_TOKEN_ROTATION_GRACE_HOURS.
# Production defaults to 90 and 365 days (config/settings/production.py).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=0)
PARTNER_TOKEN_DAYS = env.int("PARTNER_TOKEN_DAYS", default=0)
API_TOKEN_ROTATION_GRACE_HOURS = env.int("API_TOKEN_ROTATION_GRACE_HOURS", default=24)
# Each web process keeps an authenticated token for at most API_TOKEN_CACHE_SECONDS
# (apps.accounts.authentication): a revocation, an expiry of the user or partner, takes effect
# within that bound everywhere; 0 reads the token on every request.
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=1.0)

# Content Security Policy (django-csp): only the portal's own scripts, styles, images and fonts;
# no inline script, no framing, forms post only to the portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Retention (信息最小化, apps.retention): what the daily purge removes. Days are counted from the
# end of the fact (a stay's departure, a phone's unbinding, a look-up's time). The audit of manual
# changes (AuditEvent, releases, corrections) is never purged.
RETENTION_TELECOM_MARGIN_DAYS = env.int("RETENTION_TELECOM_MARGIN_DAYS", default=7)
RETENTION_PHONE_UNBOUND_DAYS = env.int("RETENTION_PHONE_UNBOUND_DAYS", default=14)
RETENTION_ACCESS_LOG_DAYS = env.int("RETENTION_ACCESS_LOG_DAYS", default=180)
RETENTION_PERSONAL_DATA_DAYS = env.int("RETENTION_PERSONAL_DATA_DAYS", default=365)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every API view (apps.core.api.BaseAPIView): a caller, then a partner within one of the view's
    # `required_scopes` or staff in one of its `allowed_roles` (apps.accounts.permissions).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.accounts.permissions.ScopeOrRole",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # JSON nested deeper than API_JSON_MAX_DEPTH answers 400 (apps.core.parsers.DepthLimitedJSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# Bad input answered as such (API.md, opening section), never a 500:
# - JSON nested deeper than this many arrays and objects answers 400 naming the limit. The deepest
#   body the API takes (an appeal's person, an itinerary's places) nests 3 levels.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
# - A body over this many bytes answers 413 naming the limit, under /api/ (apps.core.middleware).
#   Measured: a batch of 1,000 stays is 0.27 MB (0.34 MB indented); 1,000 records of the largest
#   kind, observation orders, with every text at its longest in Chinese written as \u escapes and
#   indented, are 4.2 MB (tests/api/test_bad_input.py). 5 MiB takes 1,000 records of any feed;
#   FEED_MAX_RECORDS bounds how many ordinary ones a body may hold.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=5 * 1024 * 1024)
# - A feed batch of more records than this answers 400 (a body of 5 MiB could hold a million tiny
#   records, each validated and answered: minutes of work for one request).
FEED_MAX_RECORDS = env.int("FEED_MAX_RECORDS", default=10_000)
# Django's own limit on a body read whole (forms, DRF's JSON): never below the API's, so a body the
# API accepts is never refused by Django with an HTML page.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2_621_440)
# API answers a browser or proxy may cache (everything else under /api/ is `Cache-Control: no-store`).
API_CACHEABLE_PATHS = ["/api/v1/keys/"]
# Rate limits (SPEC §7, API.md; apps.accounts.throttling): every API request counts against the
# caller's budget, a partner's per scope and a staff user's per role, and a staff request that tests
# an ID number (a status look-up by ID, a person upsert, an appeal opened, a hotel check-in) also
# against "identity". Over a budget the API answers 429 with Retry-After. A rate is "N/s", "N/m",
# "N/h", "N/d" or "N/<k>m" ("60/10m"); a list of rates must all hold; null is no limit. Budgets are
# per user (one partner system, one staff member) and, for "anon", per client address. The defaults:
# a channel gateway serves millions of residents (2,000 look-ups a second per partner); a feed sends
# batches of up to thousands of records (100 batches a second); the restrictions poll follows its
# cursor (20 pages a second); staff work at a person's pace (120 requests a minute, CDC 300), and
# test ID numbers at a call's or a check-in's pace (30 a minute and 600 a day; hotel staff 60 and
# 1,500 for groups). API_THROTTLE_RATES (JSON) overrides any of them, e.g. '{"status": "5000/s"}'.
API_THROTTLE_RATES = {
    "anon": "30/m",
    "status": "2000/s",
    "feeds": "100/s",
    "restrictions": "20/s",
    "partner": "2000/s",  # a partner's calls outside its scopes: ping, its own token
    "staff": "120/m",  # every role not named here
    "cdc_officer": "300/m",
    "identity": ["30/m", "600/d"],
    "identity.hotel_staff": ["60/m", "1500/d"],
} | env.json("API_THROTTLE_RATES", default={})
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["apps.accounts.throttling.ApiThrottle"]
# The admin forms that look a person up by ID number (apps.accounts.throttling.lookup_check): per
# user and kind of form; over the limit the user is locked out of that kind for LOOKUP_LOCKOUT_SECONDS
# (0: to the end of the window). LOOKUP_LIMITS (JSON) overrides any kind.
LOOKUP_LIMITS = {
    "default": "60/10m",
    "hotel_checkin": "120/10m",  # a tour group at the front desk
    "guest_import": "1000/h",  # a guest list counts each row
    "full_identity": "20/10m",  # the unmasked identity
} | env.json("LOOKUP_LIMITS", default={})
LOOKUP_LOCKOUT_SECONDS = env.int("LOOKUP_LOCKOUT_SECONDS", default=600)

# The cache holds the rate-limit counters. Redis in production (REDIS_CACHE_URL, required there), so
# every web process counts the same budget, with short socket timeouts so a slow Redis costs a
# request at most half a second; the process's own memory otherwise (development, tests).
REDIS_CACHE_URL = env("REDIS_CACHE_URL", default="")
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "hk",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "healthkit"}}
THROTTLE_CACHE = "default"

SPECTACULAR_SETTINGS = {
    "TITLE": "Health Kit case portal API",
    "DESCRIPTION": "Feeds, statuses and casework of the city health-code service.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from the project's own static files: no CDN on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A status's state, in every answer that carries a status (the look-up, the hotline's actions).
    "ENUM_NAME_OVERRIDES": {
        "StatusStateEnum": ["green", "popup", "yellow", "red"],
        # Two choice sets of fields named `kind`: an observation order's keeps its name.
        "KindEnum": "apps.evidence.choices.OrderKind",
        "ReviewDecisionKindEnum": "apps.reviews.choices.AUDITOR_DECISION_CHOICES",
    },
}

# Celery: with no broker configured, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues by urgency (config/celery.py, route_task): `urgent` for one person's recomputation, `bulk`
# for fan-outs, sweeps and upkeep (the default queue of any task not routed). A worker started
# without -Q consumes both; production runs one worker on `urgent` alone (README).
CELERY_TASK_QUEUES = tuple(Queue(q, Exchange(q, type="direct"), routing_key=q) for q in ("urgent", "bulk"))
CELERY_TASK_DEFAULT_QUEUE = "bulk"
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# A recomputation of at most this many persons is one person's change (urgent); a bigger one is a
# chunk of a fan-out or of a large feed batch (bulk, chunks of apps.status.services.CHUNK).
CELERY_URGENT_MAX_PERSONS = env.int("CELERY_URGENT_MAX_PERSONS", default=50)
# Workers log through LOGGING below (JSON lines, personal numbers redacted), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker that dies (SIGKILL, out of memory, a lost machine) loses no time: Redis hands the tasks it
# had taken but not acknowledged (acks_late) to another worker once CELERY_VISIBILITY_TIMEOUT seconds
# have passed since their delivery, and every worker looks for such tasks every 5 s, so a killed
# worker's task runs again within 55 s of its delivery (kombu's default: an hour, looked for every
# 100 s). The timeout must exceed the longest a task can run, or Redis would hand a task that is still
# running to a second worker (they are idempotent, but it is wasted work): the time limits below keep
# 20 s short of it (room for a retry's countdown), and a worker refuses to start with a task that
# could outlive it (config/celery.py). A recomputation chunk takes about a second; 30 s is ample.
# The daily retention purge, which runs for hours, is acknowledged on start instead (its lock and
# its resumable batches make a lost run the next day's work). A task sent with a countdown longer
# than the timeout is also delivered again early: keep countdowns under it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=50)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 30,
}
CELERY_TASK_TIME_LIMIT = max(2, CELERY_VISIBILITY_TIMEOUT - 20)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 5)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A broker that is down must not hold a request that has already committed its data: the tasks
# are given up quickly and the periodic sweep recomputes the persons left marked dirty.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"

LOG_FORMAT = env("LOG_FORMAT", default="text")  # "json" in production (config/settings/production.py)
if LOG_FORMAT not in ("json", "text"):
    raise ValueError("LOG_FORMAT must be json or text")
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; empty: /metrics is 404 (apps.core.metrics).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The development server's request log (`runserver`, logger django.server) writes the request
    # line without its query string, as gunicorn's access log does (config/gunicorn.py): a status
    # look-up's query string holds an ID number.
    # Every handler redacts ID, passport and phone numbers (apps.core.logfilters.RedactPersonalNumbers);
    # LOG_FORMAT=json (production's default) writes one JSON object a line (python-json-logger).
    "filters": {
        "no_query_strings": {"()": "apps.core.logfilters.StripQueryStrings"},
        "redact": {"()": "apps.core.logfilters.RedactPersonalNumbers"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
        "json": {
            "()": "apps.core.logfilters.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "django.server",
            "filters": ["no_query_strings", "redact"],
        },
    },
    "loggers": {
        # Django's own loggers through the redacting handler (not Django's default console handler).
        "django": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO"), "propagate": False},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["no_query_strings"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Periodic work (celery beat): recompute statuses whose next change has come, every minute.
CELERY_BEAT_SCHEDULE = {
    "status-sweep-due": {"task": "apps.status.tasks.sweep_due", "schedule": 60.0},
    # Every minute: release reviews whose run is overdue (a task lost with the broker) sent again.
    "reviews-sweep-due": {"task": "apps.reviews.tasks.sweep_due_reviews", "schedule": 60.0},
    # Daily, at 03:30 Beijing time: the retention purges (apps.retention).
    "retention-purge": {"task": "apps.retention.tasks.purge_expired", "schedule": crontab(hour=3, minute=30)},
    # Every minute: seal the audit rows written since the last run and sign a checkpoint (apps.audit.chain).
    "audit-seal": {"task": "apps.audit.tasks.seal", "schedule": 60.0},
    # Hourly: the notes of expired credentials deleted (apps.credentials, kept only until expiry).
    "credentials-purge": {"task": "apps.credentials.tasks.purge_issued", "schedule": 3600.0},
}
