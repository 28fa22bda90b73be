"""One settings file, driven by environment variables.

Defaults run on a fresh machine with nothing but Python: SQLite and Celery over kombu's
filesystem transport under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis; ``DJANGO_DEBUG=0`` is production mode.
"""

import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CSM_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dj_database_url.DBConfig:
    """Parse DATABASE_URL, refusing anything but PostgreSQL and SQLite with a clear message."""
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        shown = url.split("@")[-1] if "@" in url else url
        raise ImproperlyConfigured(f"DATABASE_URL must start with postgresql:// or sqlite:// (got {shown!r}).")
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
    if config["ENGINE"] == "django.db.backends.postgresql" and not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database (…/dbname at the end).")
    return config


DEBUG = env_bool("DJANGO_DEBUG", True)

# Production refuses to start without a real key; development gets a fixed, obvious one.
if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-change-me-in-production-0123456789"
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with 5 distinct ones.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) in production mode.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "simple_history",
    # Optional two-factor sign-in for staff (csm/otp.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # backup codes
    # Mail providers' delivery-event webhooks, and their sending backends (renewals/delivery.py).
    "anymail",
    # The layers, bottom to top (docs/architecture.md).
    "csm",
    "accounts",
    "renewals",
    "playbooks",
    "surveys",
    "health",
    "metrics",
    "imports",
    "webhooks",
    "notifications",
    "portal",
    "growth",
    "retention",
    "front",
    "demo",
]

MIDDLEWARE = [
    "csm.security_log.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "csm.otp.RequireSecondFactorMiddleware",
    "csm.sessions.SessionTimeoutMiddleware",
    "csm.middleware.LoginRequiredMiddleware",
    # After every successful write, cached page fragments are computed afresh (csm/freshness.py).
    "accounts.middleware.BumpOnWriteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csm.urls"
WSGI_APPLICATION = "csm.wsgi.application"

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
                "csm.roles.role_context",
            ],
            # {% url %} with whole-number arguments, reversed once per view name (csm/urlcache.py).
            "builtins": ["csm.templatetags.cached_url"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "csm.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks, write through WAL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-csm.sqlite3")}
    # Covering indexes (INCLUDE) are a PostgreSQL feature; on SQLite they are plain indexes, as intended.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # Page queries are short and many run at once: JIT compilation costs more than it saves on
    # them, and parallel workers only compete with the other requests for the same cores (the
    # nightly health run parallelises by chunks over its own connections instead).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=off -c max_parallel_workers_per_gather=0"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The Today charts, list counts and cached page fragments (csm/freshness.py). By default per
# process, in memory. ``CACHE_URL`` (a Redis database of its own: clearing the cache flushes it)
# shares them between the web workers, so a session's page computed by one worker is served by
# all of them.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    # A cache Redis that is away is a miss, not a 500 (csm/cache.py).
    CACHES = {"default": {"BACKEND": "csm.cache.ForgivingRedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "csm"}}
# How long a cached Today section or account-list page may live at most; any write request or
# job replaces it sooner (csm/freshness.py). 0 computes every request afresh.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300)

# --- Auth -----------------------------------------------------------------------------
# ``accounts`` holds *customer* accounts, so sign-in lives at /login/.
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Idle timeout: a session unused this long ends (its expiry moves on at most once a minute,
# csm/sessions.py); however active, it ends SESSION_ABSOLUTE_SECONDS after sign-in.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 60 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 60 * 60 * 12)

# Single sign-on with OpenID Connect (csm/sso.py, README "Single sign-on"); off unless a client
# id is set. OIDC_ISSUER finds the endpoints by discovery (fetched on first use); the explicit
# endpoint variables replace any of them. The role claim's values map to csm roles by
# OIDC_ROLE_MAP, a JSON object {"claim value": "CSM" | "Manager" | "Admin" | "Read-only"}.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_JWKS_URI", "")
OIDC_OP_LOGOUT_ENDPOINT = os.environ.get("OIDC_END_SESSION_ENDPOINT", "")
OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "groups")
try:
    OIDC_ROLE_MAP = json.loads(os.environ.get("OIDC_ROLE_MAP") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f"OIDC_ROLE_MAP must be a JSON object of claim value to role: {exc}") from None
if not isinstance(OIDC_ROLE_MAP, dict):
    raise ImproperlyConfigured("OIDC_ROLE_MAP must be a JSON object of claim value to role.")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("OIDC_TOKEN_USE_BASIC_AUTH", True)
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider's sign-out
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED and not (OIDC_ISSUER or (OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT)):
    raise ImproperlyConfigured("OIDC_CLIENT_ID is set: set OIDC_ISSUER too (or the explicit endpoints).")
if OIDC_ENABLED and not OIDC_RP_CLIENT_SECRET:
    raise ImproperlyConfigured("OIDC_CLIENT_ID is set: set OIDC_CLIENT_SECRET too.")
# With SSO on, the user name and password form can be turned off (PASSWORD_SIGN_IN=0).
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)
if not PASSWORD_SIGN_IN and not OIDC_ENABLED:
    raise ImproperlyConfigured("PASSWORD_SIGN_IN=0 needs single sign-on (OIDC_CLIENT_ID): nobody could sign in.")
AUTHENTICATION_BACKENDS.append("csm.sso.SSOBackend")

# Brute-force lockout: five failures per user name and address, and five from one address over
# any names (password spraying), then a one-hour cool-off.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Wrong API tokens from one address: this many in the window, then 429 (csm/token_auth.py).
TOKEN_FAILURE_LIMIT = env_int("TOKEN_FAILURE_LIMIT", 20)
TOKEN_FAILURE_WINDOW = env_int("TOKEN_FAILURE_WINDOW", 600)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from finders meanwhile.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Celery ---------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# The worker's consumer and beat reconnect for as long as the broker is away (None: no limit;
# 0 would mean "give up at the first refusal" and stop them for good after a Redis restart).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishers fail fast instead: a publish tries one reconnect, and a connection attempt gives up
# after the connect timeout, so a job or command never hangs on a missing broker; rows wait as
# outbox rows and the sweepers publish them later (a web request never publishes, STYLE.md).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Retries and acks_late re-deliveries must fit well inside this window (docs/architecture.md).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": 60 * 60,
        "socket_timeout": 5,
        "socket_connect_timeout": 3,
    }
    CELERY_REDIS_SOCKET_TIMEOUT = 5
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
    # The result backend's own reconnect loop (20 tries by default) would ignore the timeouts
    # above and hold a publisher for about 20 s: one quick retry, then the caller fails.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
    }
    CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 10
else:
    # Tests point CSM_BROKER_DIR elsewhere so they never eat a dev server's messages.
    CELERY_DIR = Path(os.environ.get("CSM_BROKER_DIR", VAR_DIR / "celery"))
    BROKER_DIR = CELERY_DIR / "broker"
    RESULTS_DIR = CELERY_DIR / "results"
    for folder in (BROKER_DIR / "queue", BROKER_DIR / "processed", RESULTS_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Fanout/broadcast state (remote control); kombu would put it in ./control otherwise.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{RESULTS_DIR}"
# Seconds a scheduled job's run may take; a "running" JobRun older than this was cut short
# (worker killed) and the next tick takes the day over. Well above the 1M-account timings in
# docs/benchmarks.md. JOB_MAX_DURATION_SECONDS lowers the default (the fault tests).
JOB_MAX_DURATION = {"default": env_int("JOB_MAX_DURATION_SECONDS", 60 * 60)}
# django-celery-beat's DatabaseScheduler, writing the ``beat`` heartbeat as it ticks (csm/beat.py).
CELERY_BEAT_SCHEDULER = "csm.beat:HeartbeatScheduler"
# The default schedule. It seeds django-celery-beat's tables after migrate (csm/beat.py) and
# admins change times in Django admin; a beat restart keeps their changes because
# CELERY_BEAT_SCHEDULE, which DatabaseScheduler would write over the rows at start, is empty.
CELERY_BEAT_SCHEDULE: dict = {}
CSM_BEAT_DEFAULTS: dict = {
    # Every minute. Expires: a heartbeat that waited out a broker outage is not a sign of life now.
    "heartbeat": {"task": "csm.tasks.heartbeat", "schedule": crontab(minute="*"), "options": {"expires": 55}},
    # Hourly tick, once-per-day work (JobRun): a day the worker was down at 06:00 still runs.
    "renewals-plan-notices": {"task": "renewals.tasks.plan_renewal_notices", "schedule": crontab(minute=5)},
    # Before the notices: an auto-renewed term is planned the same day. Once a day (JobRun).
    "renewals-contract-lifecycle": {"task": "renewals.tasks.run_contract_lifecycle", "schedule": crontab(minute=2)},
    "renewals-sweep-notices": {"task": "renewals.tasks.sweep_renewal_notices", "schedule": crontab(minute="*/2")},
    # Health scores for every day due as of today (catches up missed nights); safe to run twice.
    "recalculate-health": {"task": "health.tasks.recalculate_health", "schedule": crontab(hour=1, minute=30)},
    # The calibration report's counts for everyone and each manager (JobRun: once a day).
    "health-calibration-snapshot": {
        "task": "health.tasks.take_calibration_snapshot",
        "schedule": crontab(minute=20, hour="3-23"),
    },
    # After the nightly health run; later ticks catch up a missed night (runs once a day).
    "playbook-rules": {"task": "playbooks.tasks.evaluate_playbook_rules", "schedule": crontab(minute=30, hour="2-23")},
    # Hourly from 07:00; a (user, day) row claimed before sending keeps it to one per day.
    "daily-digest": {"task": "notifications.tasks.send_daily_digests", "schedule": crontab(minute=0, hour="7-12")},
    # Hourly tick, once-per-day planning (JobRun): NPS waves, onboarding CSAT, exit surveys missed.
    "surveys-plan-due": {"task": "surveys.tasks.plan_due_surveys", "schedule": crontab(minute=15, hour="8-20")},
    "surveys-sweep-invites": {"task": "surveys.tasks.sweep_survey_invites", "schedule": crontab(minute="*/5")},
    # Daily expansion suggestions and renewal checkpoints, after the nightly health run (JobRun: once a day).
    "growth-suggestions": {"task": "growth.tasks.raise_suggestions", "schedule": crontab(minute=40, hour="2-23")},
    "growth-checkpoints": {"task": "growth.tasks.record_checkpoints", "schedule": crontab(minute=50, hour="2-23")},
    "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": crontab(minute="*")},
    # Hourly tick, once-per-day pruning (JobRun), after the nightly health run has started.
    "retention-prune": {"task": "retention.tasks.prune_old_rows", "schedule": crontab(minute=45, hour="3-23")},
}

# --- Retention (retention/, README "Retention") ---------------------------------------
# Days each growing table keeps; RETENTION_DAYS_<NAME> overrides one (e.g. RETENTION_DAYS_HEALTH_SCORES).
_RETENTION_DEFAULTS = {
    "usage_snapshots": 730,
    "health_scores": 730,
    "renewal_notices": 730,
    "webhook_deliveries": 90,
    "job_runs": 365,
    "ops_alerts": 180,
    "sessions": 0,
    "axes_access_attempts": 90,
    "axes_access_logs": 180,
    "axes_access_failure_logs": 180,
    "history": 730,
    "notifications": 180,
    "digests_sent": 90,
}
RETENTION_DAYS = {name: env_int(f"RETENTION_DAYS_{name.upper()}", days) for name, days in _RETENTION_DEFAULTS.items()}
# Rows per DELETE, and DELETEs per table per run: a backlog is worked off over several days.
# 250 x 5,000 covers a day of health rows at 1M accounts (docs/benchmarks.md, "History layout").
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 5000)
RETENTION_MAX_BATCHES = env_int("RETENTION_MAX_BATCHES", 250)
# Health rows keep their explanation (parts, model, previous score and band) this long; older rows keep
# score, band and flags. 14 days keeps a year of history under 100 bytes per account-day
# (docs/benchmarks/history.md); calibration's component separation reads parts, so it sees a
# horizon's components only while they are kept.
HEALTH_PARTS_DAYS = env_int("HEALTH_PARTS_DAYS", 14)
# Days before that window the nightly thinning looks at (catches up missed nights; raise once for old history).
HEALTH_PARTS_CATCHUP_DAYS = env_int("HEALTH_PARTS_CATCHUP_DAYS", 30)
# The calibration report is cached per user and day (its inputs are 90+ days old).
CALIBRATION_CACHE_SECONDS = env_int("CALIBRATION_CACHE_SECONDS", 6 * 60 * 60)

# --- Money ----------------------------------------------------------------------------
# The reporting currency: every total in another currency is converted at the admin-kept
# rates (renewals.ExchangeRate), or shown per currency when a rate is missing.
CSM_BASE_CURRENCY = os.environ.get("CSM_BASE_CURRENCY", "USD").strip().upper() or "USD"
# Amounts at or above this (in absolute value) are shown without cents.
CSM_MONEY_WHOLE_FROM = env_int("CSM_MONEY_WHOLE_FROM", 1000)

# --- Email ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "csm <csm@localhost>")
# Your company as notices name it ("the contract between Acme and <vendor>").
CSM_VENDOR_NAME = os.environ.get("CSM_VENDOR_NAME", "")
# Where recipients' links in notices point (unsubscribe, answers): the site as customers reach it.
CSM_PUBLIC_URL = os.environ.get("CSM_PUBLIC_URL", "http://localhost:8000")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# A mail provider instead of SMTP: CSM_EMAIL_PROVIDER picks django-anymail's backend, and its
# webhooks (/anymail/<provider>/tracking/) report deliveries, bounces and complaints back.
EMAIL_PROVIDERS = {
    "amazon_ses": "anymail.backends.amazon_ses.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "postmark": "anymail.backends.postmark.EmailBackend",
    "resend": "anymail.backends.resend.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "sparkpost": "anymail.backends.sparkpost.EmailBackend",
}
EMAIL_PROVIDER = os.environ.get("CSM_EMAIL_PROVIDER", "").strip().lower()
if EMAIL_PROVIDER:
    if EMAIL_PROVIDER not in EMAIL_PROVIDERS:
        raise ImproperlyConfigured(f"CSM_EMAIL_PROVIDER must be one of {', '.join(sorted(EMAIL_PROVIDERS))}.")
    EMAIL_BACKEND = EMAIL_PROVIDERS[EMAIL_PROVIDER]
# Every ANYMAIL_* variable becomes an ANYMAIL setting, e.g. ANYMAIL_POSTMARK_SERVER_TOKEN,
# ANYMAIL_MAILGUN_API_KEY, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, ANYMAIL_WEBHOOK_SECRET (user:password,
# the basic auth every provider's webhook URL must carry).
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "csm.token_auth.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["csm.permissions.RolePermission"],
    # Request bodies are JSON only, for token and session callers alike, so the schema offers one
    # media type (docs/api.md). JSON nesting is bounded (csm/input_guards.py): a deep body is a
    # 400, not a RecursionError. Another content type is a 415.
    "DEFAULT_PARSER_CLASSES": ["csm.input_guards.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": [
        # Filters by id, strict yes/no (csm/filters.py).
        "csm.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's AutoSchema plus the error answers every operation can give (csm/schema.py).
    "DEFAULT_SCHEMA_CLASS": "csm.schema.AutoSchema",
    "EXCEPTION_HANDLER": "csm.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_USER", "10000/hour"),
        "anon": os.environ.get("API_THROTTLE_ANON", "100/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "csm API",
    "DESCRIPTION": "Customer success: accounts, contacts, contracts, renewals, health, metrics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # HealthScore.band and previous_band share one set of choices: one enum in the schema.
    # Checkpoint.auto_call and csm_call share one set, and every growth "kind" is an opportunity kind.
    "ENUM_NAME_OVERRIDES": {
        "HealthBandEnum": "accounts.models.HealthScore.Band",
        "CheckpointCallEnum": "growth.models.Checkpoint.Call",
        "OpportunityKindEnum": "growth.models.Opportunity.Kind",
    },
    # Request bodies get their own components (AccountRequest, ...) without the read-only fields,
    # so a generated client's models match what the server reads and what it answers.
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security -------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# No inline scripts anywhere: every script is a vendored or project file under static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# The sign-out form's redirect to the identity provider's end_session endpoint is a form action.
if OIDC_ENABLED:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += sorted(
        {"/".join(url.split("/")[:3]) for url in (OIDC_ISSUER, OIDC_OP_LOGOUT_ENDPOINT) if url}
    )

# Log lines carry time, level, logger and, for security events (csm/security_log.py), the user,
# address and request id: one JSON object per line in production, readable in development.
# LOG_FORMAT=json|text overrides the choice.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "csm.security_log.JsonFormatter"},
        "text": {"()": "csm.security_log.ReadableFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs each failure with the user name and address masked; csm.security logs them whole.
    "loggers": {"axes": {"level": "WARNING"}, "csm.security": {"level": "INFO"}},
}

# Renewal notices while the mail server is away: retried from NOTICE_RETRY_BASE_SECONDS on,
# doubling up to an hour, for up to NOTICE_MAX_DELAY_HOURS before a notice fails (mail servers
# retry for days too); an administrator is alerted once the outage outlasts
# NOTICE_OUTAGE_ALERT_MINUTES (the old retry budget).
NOTICE_RETRY_BASE_SECONDS = env_int("NOTICE_RETRY_BASE_SECONDS", 60)
NOTICE_RETRY_MAX_SECONDS = env_int("NOTICE_RETRY_MAX_SECONDS", 60 * 60)
NOTICE_MAX_DELAY_HOURS = env_int("NOTICE_MAX_DELAY_HOURS", 48)
NOTICE_OUTAGE_ALERT_MINUTES = env_int("NOTICE_OUTAGE_ALERT_MINUTES", 15)
# Sending: a worker sends NOTICE_SEND_BATCH notices per task over one mail connection, and the
# broker queue is kept at NOTICE_SEND_QUEUE_TARGET batch messages (renewals/services/publishing.py):
# deep enough that no worker waits, shallow enough that a paused relay leaves little queued.
NOTICE_SEND_BATCH = env_int("NOTICE_SEND_BATCH", 50)
NOTICE_SEND_QUEUE_TARGET = env_int("NOTICE_SEND_QUEUE_TARGET", 20)

# Product settings.
CSM_DEMO_PASSWORD = os.environ.get("CSM_DEMO_PASSWORD", "demo-pass-2026")
