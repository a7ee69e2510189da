"""One env-driven settings module.

The defaults "just work" on a bare machine: SQLite in ./var, a Celery broker kept in
files under ./var (no server), the console e-mail backend. Production and CI set
DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("XC_VAR_DIR", BASE_DIR / "var"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    """A boolean from the environment, strictly: a typo such as HTTPS=ture must stop
    start-up, not silently read as "off" (and turn HSTS off with it)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"环境变量 {name}={raw!r} 不是布尔值：请填 1/true/yes/on 或 0/false/no/off"
    )


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = envbool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in var/secret_key.

    No key is ever written in code; a bare machine still runs with one command."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "django_celery_beat",
    "xc_fupin.apps.AxesConfig",  # django-axes, with Chinese admin names
    "csp",
    "simple_history",
    "django_otp",
    "xc_fupin.apps.TOTPConfig",  # django-otp's TOTP devices, with Chinese admin names
    "tasks",
    "intake",
    "poverty",
    "subsidies",
    "dropout",
    "matching",
    "inspections",
    "employment",
    "reports",
    "archive",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on everything a signed-in user gets (personal data).
    "tasks.privacy.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # An imported account sees only the password change until its one-time password is gone.
    "tasks.accounts.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Puts the request's user on every historical row (audit trail).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xc_fupin.urls"
WSGI_APPLICATION = "xc_fupin.wsgi.application"

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
                "tasks.context_processors.scope",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker share the file: WAL lets readers go on while
    # one writes, and IMMEDIATE transactions avoid "database is locked" upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The cross-check's covering index (dropout.EnrolmentRecord) carries INCLUDE columns that
# PostgreSQL uses and SQLite ignores; SQLite's warning about it says nothing actionable.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "tasks.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # The demo's published password is refused everywhere (see tasks/checks.py).
    {"NAME": "tasks.checks.NotTheDemoPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out login is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Password guessing: lock the pair (user name, address) after 5 failures for 30 minutes.
# The pair, not the address alone: a whole county office sits behind one address, and
# one person's typos must not lock out colleagues.
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Optional second factor for the Django admin: with ADMIN_REQUIRE_OTP on, only staff who
# verify with a TOTP device (an authenticator app; added under 后台 › TOTP devices) get in.
ADMIN_REQUIRE_OTP = envbool("ADMIN_REQUIRE_OTP", False)
OTP_TOTP_ISSUER = "宣城教育助学脱贫"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the to-do list first (reports/todo.py)
LOGOUT_REDIRECT_URL = "login"
# Shared office computers: a working day, not the two-week Django default.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded and generated files hold children's data: they live outside STATIC and are
# served only through permission-checked views. MEDIA_URL is deliberately never routed.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/files-are-served-by-views/"
EVIDENCE_MAX_BYTES = envint("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 30 * 1024 * 1024)
# 抄送 of the 版记 of the monthly review and the quarterly circular (reports/documents.py):
# the offices that get a copy, as printed ("，" between them). Staff may still change a
# circular's 抄送 with its other paragraphs before issuing it.
REPORT_CC = os.environ.get("XC_REPORT_CC", "市人民政府办公室，市扶贫开发领导小组办公室").strip()
# Files up to this size (a few thousand rows) are validated and applied in the request;
# larger ones by a Celery worker while the page shows progress.
UPLOAD_SYNC_MAX_BYTES = envint("UPLOAD_SYNC_MAX_BYTES", 256 * 1024)
# A worker's lease on an upload: not renewed for this long, the upload is sent again
# (intake/services.py). Tests shorten it.
UPLOAD_LEASE_SECONDS = envint("UPLOAD_LEASE_SECONDS", 90)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The database cache: shared by every web and worker process, and still there when Redis
# is down. Dashboard figures at province scale are cached in it (tasks/figures.py).
# `manage.py migrate` creates the table (tasks/migrations/0008_cache_table.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "xc_cache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "xc-fupin@localhost")

# Celery. The embedded default is kombu's filesystem transport: web and worker exchange
# messages through files in ./var/broker, so `scripts/run` needs no Redis. Production and
# CI point CELERY_BROKER_URL at Redis; workers on other machines then join unchanged.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # kombu creates neither folder; any command that sends a job needs them.
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # Otherwise kombu keeps its exchange table in ./control, wherever it was started.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Fail fast when Redis is down, so a page that enqueues a job does not hang.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
# Job state that users see is kept in our own models; Celery results are not needed.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Tests give each real worker its own queue, so stray workers never take their jobs.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# No inline script anywhere (data goes to scripts through json_script), no third-party
# origin: every asset is vendored. Inline style attributes stay allowed for the admin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if envbool("HTTPS", False):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
