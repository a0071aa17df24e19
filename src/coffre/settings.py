"""Django settings for Coffre, read from the environment (see docs/configuration.md).

Every setting has an embedded default that works on one machine without any other server:
SQLite in WAL mode under ./var/, blobs under ./var/blobs/, tasks in the database.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from coffre.core.env import env_addresses, env_bool, env_float, env_int, env_list, env_size, env_str

VAR_DIR = Path(env_str("COFFRE_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_from_file(path: Path, make) -> str:
    """A secret generated on first run and kept in a private file under ./var/."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as handle:
                handle.write(make())
            path.chmod(0o600)
        except FileExistsError:
            pass  # another process created it first
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env_str("COFFRE_SECRET_KEY") or _secret_from_file(
    VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)
DEBUG = env_bool("COFFRE_DEBUG", False)
ALLOWED_HOSTS = env_list("COFFRE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("COFFRE_CSRF_TRUSTED_ORIGINS", [])

# Public base URL used in links we hand out (contentHref, token endpoint); empty = from the request.
COFFRE_BASE_URL = (env_str("COFFRE_BASE_URL", "") or "").rstrip("/")
# StatusMessage.environment of the contract.
COFFRE_ENVIRONMENT = env_str("COFFRE_ENVIRONMENT", "production")
if COFFRE_ENVIRONMENT not in {"development", "test", "integration", "acceptation", "simulation", "production"}:
    raise ImproperlyConfigured("COFFRE_ENVIRONMENT must be one of development, test, integration, "
                               "acceptation, simulation, production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes of two-factor authentication
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "coffre.core",
    "coffre.audit",
    "coffre.accounts",
    "coffre.mailbox",
    "coffre.events",
    "coffre.outbox",
    "coffre.notifications",
    "coffre.smtpd",
    "coffre.oauth",
    "coffre.api",
    "coffre.scheduler",
    "coffre.intake",
    "coffre.intake.imap",
    "coffre.agents",
    "coffre.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "coffre.core.middleware.StatusMessageErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "coffre.core.middleware.RequestSizeLimitMiddleware",
    "coffre.core.middleware.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coffre.accounts.middleware.PersonLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "coffre.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "coffre.urls"
WSGI_APPLICATION = "coffre.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "coffre.accounts.context_processors.portal",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "coffre.core.sqlite",
            "NAME": str(VAR_DIR / "coffre.sqlite3"),
            "OPTIONS": {
                # WAL: readers never wait for the writer; IMMEDIATE: a write transaction takes the
                # lock when it begins, so two writers queue (busy timeout) instead of deadlocking.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Keep each thread's connection between requests: opening one costs a schema parse and
            # the pragmas above, and closing it drops its page cache (docs/benchmarks.md).
            "CONN_MAX_AGE": env_int("COFFRE_SQLITE_CONN_MAX_AGE", 600, minimum=0),
            "TEST": {"NAME": env_str("COFFRE_TEST_SQLITE_NAME", None)},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "fr"
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
LANGUAGES = [("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch"), ("en", "English")]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The portal's own CSS and JavaScript (src/coffre/static: the coffre package is not an app).
STATICFILES_DIRS = [Path(__file__).resolve().parent / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    # Encrypted document blobs. Any Django storage works (e.g. django-storages' S3 backend).
    "blobs": {
        "BACKEND": env_str("COFFRE_BLOB_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": env_str("COFFRE_BLOB_DIR", str(VAR_DIR / "blobs"))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads: files are encrypted while they arrive (coffre.mailbox.uploads), spooled under ./var/tmp.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
COFFRE_MAX_REQUEST_BYTES = env_size("COFFRE_MAX_REQUEST_BYTES", 64 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # non-file parts (the JSON description)
DATA_UPLOAD_MAX_NUMBER_FILES = 6

# Master key for the envelope encryption of documents (base64 of 32 bytes). When unset, a key
# file is created on first run; keep a copy of it: without it, no document can be read.
COFFRE_MASTER_KEY = env_str("COFFRE_MASTER_KEY")  # also COFFRE_MASTER_KEY_FILE
COFFRE_MASTER_KEY_PATH = Path(env_str("COFFRE_MASTER_KEY_PATH", str(VAR_DIR / "master.key")))
# Keys that sealed older blobs and still open them after a rotation (comma-separated base64).
COFFRE_RETIRED_MASTER_KEYS = env_list("COFFRE_RETIRED_MASTER_KEYS", [])
COFFRE_BLOB_FSYNC = env_bool("COFFRE_BLOB_FSYNC", True)
# `make bench` mounts its bare upload endpoint (coffre.core.bench) when set; never in production.
COFFRE_BENCH = env_bool("COFFRE_BENCH", False)
# The demo's fake provider portal "Énergie Demo" (coffre.agents.fakeportal) under /demo-portal/,
# and the address its agent (agents/providers/portals/demo-energy.yaml) logs in to; never in production.
COFFRE_DEMO_PORTAL = env_bool("COFFRE_DEMO_PORTAL", False)
COFFRE_DEMO_PORTAL_URL = env_str("COFFRE_DEMO_PORTAL_URL", "http://127.0.0.1:8000/demo-portal/")

TASKS = {
    "default": {
        "BACKEND": env_str("COFFRE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Notifications (docs/notifications.md): when the nightly digest runs (a cron expression read in
# COFFRE_DIGEST_TIMEZONE), how long instant alerts wait to group arrivals, and how often the
# catch-up looks for alerts a lost wake-up left and for a digest run whose worker died.
COFFRE_DIGEST_CRON = env_str("COFFRE_DIGEST_CRON", "0 2 * * *") or "0 2 * * *"
COFFRE_DIGEST_TIMEZONE = env_str("COFFRE_DIGEST_TIMEZONE", "Europe/Brussels") or "Europe/Brussels"
COFFRE_INSTANT_ALERT_DELAY = env_int("COFFRE_INSTANT_ALERT_DELAY", 30, minimum=0)
COFFRE_NOTIFICATIONS_CATCH_UP = env_int("COFFRE_NOTIFICATIONS_CATCH_UP", 60, minimum=5)
# Periodic tasks enqueued by `coffre scheduler` (coffre.scheduler.schedules): name ->
# {"task": "dotted.path.to.task", "every": seconds} or {"task": ..., "cron": "0 2 * * *",
# "timezone": "Europe/Brussels"}.
COFFRE_PERIODIC_TASKS: dict[str, dict] = {
    # Content left in storage by publications that never committed (a killed process).
    "cleanup-orphan-blobs": {"task": "coffre.mailbox.tasks.cleanup_orphan_blobs", "every": 15 * 60},
    # Used JWT ids and expired access tokens.
    "purge-oauth-records": {"task": "coffre.oauth.tasks.purge_expired_oauth_records", "every": 10 * 60},
    # Follow-up events and the digests of the night.
    "nightly-digest": {"task": "coffre.notifications.tasks.nightly_digest", "cron": COFFRE_DIGEST_CRON,
                       "timezone": COFFRE_DIGEST_TIMEZONE},
    "notifications-catch-up": {"task": "coffre.notifications.tasks.notifications_catch_up",
                               "every": COFFRE_NOTIFICATIONS_CATCH_UP},
    # Outgoing mail whose retry time has come, or whose delivery task was lost (docs/mail.md).
    "deliver-due-mail": {"task": "coffre.outbox.tasks.enqueue_due_mail", "every": 60},
    # Mails sent to a space that waited 30 days for an approval (docs/intake.md).
    "expire-pending-mails": {"task": "coffre.intake.tasks.expire_pending_mails", "every": 60 * 60},
    # Mailboxes polled over IMAP whose next attempt has come (docs/intake-documents.md).
    "poll-imap-sources": {"task": "coffre.intake.imap.tasks.poll_due_sources", "every": 60},
    # Agents' connections whose synchronisation is due (docs/agents.md).
    "sync-due-agents": {"task": "coffre.agents.tasks.sync_due_connections", "every": 60},
}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    RQ_QUEUES = {"default": {"URL": env_str("COFFRE_REDIS_URL", "redis://localhost:6379/0")}}

# OAuth2 (coffre.oauth): tokens live this long; the JWT assertion of a client must be short-lived.
COFFRE_TOKEN_LIFETIME = env_int("COFFRE_TOKEN_LIFETIME", 3600, minimum=60)
COFFRE_ASSERTION_MAX_LIFETIME = env_int("COFFRE_ASSERTION_MAX_LIFETIME", 3600, minimum=60)

SESSION_COOKIE_SECURE = env_bool("COFFRE_SECURE_COOKIES", not DEBUG and env_bool("COFFRE_HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"  # the inline PDF preview is a same-origin frame
# Behind a reverse proxy, the client's address is the last one it appended to X-Forwarded-For.
COFFRE_BEHIND_PROXY = env_bool("COFFRE_BEHIND_PROXY", False)
if COFFRE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

LOG_LEVEL = env_str("COFFRE_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
        # aiosmtpd (coffre smtpd) logs every SMTP command at INFO, bounce addresses with their tokens.
        "mail.log": {"level": "WARNING"},
        # httpx and httpcore (the agents' HTTP clients) log every request's URL at INFO: a
        # provider's URL may carry a session id or a token in its query. The agents log their own steps.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- the portal -----------------------------------------------------------------------------------

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = env_int("COFFRE_SESSION_AGE", 8 * 3600, minimum=300)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = env_str("COFFRE_TOTP_ISSUER", "Coffre")
# Who to call when a one-click link of an e-mail has expired (shown on that page and in the mails),
# e.g. "Helpdesk: +32 2 000 00 00, support@example.be". Empty: "the operator of this service".
COFFRE_SUPPORT_CONTACT = env_str("COFFRE_SUPPORT_CONTACT", "") or ""

# Incoming mail: sender authentication (SPF, DKIM, DMARC; docs/sender-authentication.md). Off: every
# sender is "unauthenticated" (a closed demo). DNS goes to these nameservers (ip[:port], comma-
# separated; empty = the system's), each lookup waits at most COFFRE_DNS_TIMEOUT seconds.
COFFRE_SENDER_AUTH = env_bool("COFFRE_SENDER_AUTH", True)
COFFRE_DNS_NAMESERVERS = env_addresses("COFFRE_DNS_NAMESERVERS", default_port=53)
COFFRE_DNS_TIMEOUT = env_float("COFFRE_DNS_TIMEOUT", 5.0, minimum=0.1)
COFFRE_DNS_CACHE_SECONDS = env_float("COFFRE_DNS_CACHE_SECONDS", 300.0, minimum=0.0)

# Documents by e-mail (docs/intake.md): the domain of the spaces' addresses
# (<name>.<space>.<random>@COFFRE_INTAKE_DOMAIN; its MX leads to `coffre smtpd`), and how long
# the documents that arrive outside the e-Box API are kept (years).
COFFRE_INTAKE_DOMAIN = (
    (env_str("COFFRE_INTAKE_DOMAIN", "") or "").strip().lower().rstrip(".") or "intake.localhost"
)
COFFRE_DOCUMENT_RETENTION_YEARS = env_int("COFFRE_DOCUMENT_RETENTION_YEARS", 10, minimum=1)

# The eventProviderId of the events of this registry's own messages (event API).
COFFRE_EVENT_PROVIDER_ID = env_str("COFFRE_EVENT_PROVIDER_ID", "coffre") or "coffre"

# Content-Security-Policy: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Mail: the embedded default writes every mail to an outbox folder (the operator's "outbox" page
# shows them); set COFFRE_SMTP_HOST to send through a relay.
DEFAULT_FROM_EMAIL = env_str("COFFRE_MAIL_FROM", "Coffre <no-reply@coffre.localhost>")
# The domain of the Message-IDs of outgoing mail (the From address's domain by default).
COFFRE_MAIL_DOMAIN = env_str("COFFRE_MAIL_DOMAIN", DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">").strip()) or "localhost"
if env_str("COFFRE_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("COFFRE_SMTP_HOST")
    EMAIL_PORT = env_int("COFFRE_SMTP_PORT", 587)
    EMAIL_HOST_USER = env_str("COFFRE_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_str("COFFRE_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("COFFRE_SMTP_STARTTLS", True)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox")
# Retries of a mail the relay could not take (docs/mail.md): from MIN seconds, doubling, up to MAX.
COFFRE_MAIL_RETRY_MIN = env_int("COFFRE_MAIL_RETRY_MIN", 60, minimum=1)
COFFRE_MAIL_RETRY_MAX = env_int("COFFRE_MAIL_RETRY_MAX", 6 * 3600, minimum=1)
# Envelope sender bounces+<token>@COFFRE_BOUNCE_DOMAIN (VERP), whose bounces `coffre smtpd`
# receives; empty: the From address is the envelope sender and bounces go wherever it leads.
COFFRE_BOUNCE_DOMAIN = (env_str("COFFRE_BOUNCE_DOMAIN", "") or "").strip().lower()
# DKIM signature of outgoing mail: a PEM RSA private key (or COFFRE_DKIM_PRIVATE_KEY_FILE), its
# selector and domain (the public key is published at <selector>._domainkey.<domain>).
COFFRE_DKIM_PRIVATE_KEY = env_str("COFFRE_DKIM_PRIVATE_KEY", "") or ""
COFFRE_DKIM_SELECTOR = (env_str("COFFRE_DKIM_SELECTOR", "") or "").strip()
COFFRE_DKIM_DOMAIN = (env_str("COFFRE_DKIM_DOMAIN", "") or "").strip().lower()
if COFFRE_DKIM_PRIVATE_KEY and not (COFFRE_DKIM_SELECTOR and COFFRE_DKIM_DOMAIN):
    raise ImproperlyConfigured(
        "COFFRE_DKIM_PRIVATE_KEY(_FILE) needs COFFRE_DKIM_SELECTOR and COFFRE_DKIM_DOMAIN"
    )
# `coffre smtpd`, Coffre's own SMTP server (bounces, and documents by e-mail): where it listens,
# the name it greets with, and its limits.
COFFRE_SMTP_LISTEN = env_str("COFFRE_SMTP_LISTEN", "127.0.0.1:2525") or "127.0.0.1:2525"
_smtp_host, _sep, _smtp_port = COFFRE_SMTP_LISTEN.rpartition(":")
if not (_sep and _smtp_host and _smtp_port.isdigit() and 0 < int(_smtp_port) < 65536):
    raise ImproperlyConfigured(f"COFFRE_SMTP_LISTEN must be host:port, got {COFFRE_SMTP_LISTEN!r}")
COFFRE_SMTPD_HOSTNAME = env_str("COFFRE_SMTPD_HOSTNAME", "") or COFFRE_BOUNCE_DOMAIN or COFFRE_MAIL_DOMAIN
COFFRE_SMTPD_MAX_MESSAGE_SIZE = env_size("COFFRE_SMTPD_MAX_MESSAGE_SIZE", 25 * 1024 * 1024)
COFFRE_SMTPD_MAX_RECIPIENTS = env_int("COFFRE_SMTPD_MAX_RECIPIENTS", 20, minimum=1)
COFFRE_SMTPD_THREADS = env_int("COFFRE_SMTPD_THREADS", 4, minimum=1)  # messages handled at once
COFFRE_SMTPD_PROCESSES = env_int("COFFRE_SMTPD_PROCESSES", min(os.cpu_count() or 1, 4), minimum=1)

# What becomes a document when a mail arrives (coffre.intake.mime; docs/intake-documents.md): the
# largest message read, the largest file kept, how many documents per mail, how deep forwarded
# mails are read, which inline images are a signature's logo, and the bounds of a ZIP.
COFFRE_INTAKE_MAX_MESSAGE_SIZE = env_size("COFFRE_INTAKE_MAX_MESSAGE_SIZE", 25 * 1024 * 1024)
COFFRE_INTAKE_MAX_FILE_SIZE = env_size("COFFRE_INTAKE_MAX_FILE_SIZE", 25 * 1024 * 1024)
COFFRE_INTAKE_MAX_DOCUMENTS = env_int("COFFRE_INTAKE_MAX_DOCUMENTS", 20, minimum=1)
COFFRE_INTAKE_MAX_FORWARD_DEPTH = env_int("COFFRE_INTAKE_MAX_FORWARD_DEPTH", 3, minimum=0)
COFFRE_INTAKE_INLINE_IMAGE_MAX_SIZE = env_size("COFFRE_INTAKE_INLINE_IMAGE_MAX_SIZE", 10 * 1024)
COFFRE_INTAKE_INLINE_IMAGE_MAX_PIXELS = env_int("COFFRE_INTAKE_INLINE_IMAGE_MAX_PIXELS", 200, minimum=0)
COFFRE_INTAKE_ACCEPT_ZIP = env_bool("COFFRE_INTAKE_ACCEPT_ZIP", True)
COFFRE_INTAKE_ARCHIVE_MAX_ENTRIES = env_int("COFFRE_INTAKE_ARCHIVE_MAX_ENTRIES", 10_000, minimum=1)
COFFRE_INTAKE_ARCHIVE_MAX_SIZE = env_size("COFFRE_INTAKE_ARCHIVE_MAX_SIZE", 256 * 1024 * 1024)
COFFRE_INTAKE_ARCHIVE_MAX_RATIO = env_int("COFFRE_INTAKE_ARCHIVE_MAX_RATIO", 200, minimum=1)

# IMAP polling of existing mailboxes (coffre.intake.imap; docs/intake-documents.md): each source is
# polled every COFFRE_IMAP_POLL_INTERVAL seconds, at most COFFRE_IMAP_BATCH messages a time; after
# failures the wait doubles up to COFFRE_IMAP_RETRY_MAX seconds. COFFRE_IMAP_TIMEOUT: seconds to
# connect and for each answer. Where polled messages go (a dotted path, called with raw, envelope).
COFFRE_IMAP_POLL_INTERVAL = env_int("COFFRE_IMAP_POLL_INTERVAL", 120, minimum=10)
COFFRE_IMAP_RETRY_MAX = env_int("COFFRE_IMAP_RETRY_MAX", 3600, minimum=10)
COFFRE_IMAP_TIMEOUT = env_float("COFFRE_IMAP_TIMEOUT", 30.0, minimum=1.0)
COFFRE_IMAP_BATCH = env_int("COFFRE_IMAP_BATCH", 50, minimum=1)
COFFRE_IMAP_DELIVER = "coffre.intake.imap.poller.deliver_to_pipeline"

# Agents (coffre.agents; docs/agents.md): "sync now" at most once per COFFRE_AGENTS_SYNC_NOW_INTERVAL
# seconds per connection; a failed sync (provider down, unexpected error) is retried after
# COFFRE_AGENTS_RETRY_MIN seconds, doubling up to the agent's frequency or COFFRE_AGENTS_RETRY_MAX;
# a worker holds a connection COFFRE_AGENTS_LEASE seconds (renewed at each document) before another
# may take it; the scheduler claims at most COFFRE_AGENTS_BATCH connections a run.
COFFRE_AGENTS_SYNC_NOW_INTERVAL = env_int("COFFRE_AGENTS_SYNC_NOW_INTERVAL", 15 * 60, minimum=60)
COFFRE_AGENTS_RETRY_MIN = env_int("COFFRE_AGENTS_RETRY_MIN", 15 * 60, minimum=60)
COFFRE_AGENTS_RETRY_MAX = env_int("COFFRE_AGENTS_RETRY_MAX", 24 * 3600, minimum=60)
COFFRE_AGENTS_LEASE = env_int("COFFRE_AGENTS_LEASE", 30 * 60, minimum=60)
COFFRE_AGENTS_BATCH = env_int("COFFRE_AGENTS_BATCH", 500, minimum=1)
