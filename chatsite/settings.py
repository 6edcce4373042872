"""Roomcast settings.

With no environment set this is the embedded development setup: SQLite and the in-memory channel layer.
DATABASE_URL (PostgreSQL) and REDIS_URL (channels-redis, shared by every ASGI worker) switch to production.
"""

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

DEV_SECRET_KEY = "django-insecure-roomcast-development-only"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a long random value.")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
# The development key is public: anything signed with it (allauth's email confirmation links, say) can be
# forged, so it may serve this machine only (chatsite.middleware refuses other client addresses too).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
if SECRET_KEY == DEV_SECRET_KEY and (exposed := [h for h in ALLOWED_HOSTS if h not in LOOPBACK_HOSTS]):
    raise ImproperlyConfigured(
        f"ALLOWED_HOSTS names {', '.join(exposed)}, but SECRET_KEY is the public development key, which may "
        "serve only 127.0.0.1 and localhost. Set SECRET_KEY to a long random value."
    )
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's with an ASGI one that speaks websockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth.usersessions' page (/accounts/sessions/) loads its template tags
    "channels",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.usersessions",  # records each login's session, so a ban can end them all
    "allauth.mfa",  # two-factor authentication: TOTP and recovery codes
    "django_tasks_db",  # the task queue's table (TASKS below); `manage.py db_worker` runs what it holds
    "accounts",
    "rooms",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "chatsite.middleware.refuse_nul_in_urls",
    "chatsite.middleware.refuse_remote_clients_with_the_development_key",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie (the language menu), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A signed-in person's saved language (over the cookie and the browser) and time zone; before anything
    # that writes to them.
    "chatsite.middleware.apply_account_preferences",
    "chatsite.middleware.require_two_factor_for_staff",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",  # csp_nonce, for the <script> tags
                "django.template.context_processors.i18n",  # LANGUAGE_CODE, for <html lang>
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rooms.context_processors.sidebar",
            ],
        },
    },
]

# SQLITE_PATH only moves the embedded database (the smoke test uses it); DATABASE_URL replaces it.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{os.environ.get('SQLITE_PATH', BASE_DIR / 'db.sqlite3')}",
        # Keep connections: every database_sync_to_async call opening a new PostgreSQL connection was about a
        # third of the database thread's time under load (bench/). No health checks: every such call counts as
        # a new request, so each would add a "SELECT 1" round trip to every message (at 100 members and 400
        # msg/s, p99 114 -> 39 ms). A connection that died fails one query; Django then drops it.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a live test server in another process sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}

# Threads (each with its own database connection) for the sockets' database work, per worker process.
DB_THREADS = int(os.environ.get("DB_THREADS", "4"))

# Open pages (sockets) one person may hold at once, across workers: many tabs and devices, not a flood.
SOCKETS_PER_PERSON = int(os.environ.get("SOCKETS_PER_PERSON", "30"))

REDIS_URL = os.environ.get("REDIS_URL", "")


def deployment_namespace(database: dict, redis_url: str) -> str:
    """A channel prefix of this deployment's own: Redis pub/sub channels are global to the server (the database
    number in REDIS_URL does not separate them), so two deployments on one Redis must not share group names.
    Derived from where the deployment keeps its data (database and Redis, credentials left out), so every worker
    of one deployment agrees on it without configuration."""
    redis = urlsplit(redis_url)
    # Spelled as every worker will read it: defaults filled in, so "redis://h" and "redis://h:6379/0" agree.
    redis_db = redis.path.strip("/") or "0" if redis.scheme in {"redis", "rediss"} else redis.path
    where = [
        database.get("ENGINE", ""),
        (database.get("HOST") or "localhost").lower(),
        str(database.get("PORT") or "5432"),
        str(database.get("NAME", "")),
        redis.scheme,
        (redis.hostname or "localhost").lower(),
        str(redis.port or 6379),
        redis_db,  # the database number, or a unix socket's path
        redis.query,  # ?db=N
    ]
    return "roomcast-" + hashlib.sha256("|".join(where).encode()).hexdigest()[:12]


# CHANNEL_PREFIX overrides the derived namespace (e.g. to keep one across a database move).
CHANNEL_PREFIX = os.environ.get("CHANNEL_PREFIX") or deployment_namespace(DATABASES["default"], REDIS_URL)
PRESENCE_PREFIX = f"{CHANNEL_PREFIX}:presence"
if REDIS_URL:
    # Redis pub/sub: a group send is one PUBLISH, pushed to every worker process subscribed to the group (the
    # only subscriber per process is its hub, rooms/hub.py). Nothing is stored: what a worker misses while its
    # connection is down, its pages catch up from the database (the hub sends them to reconnect once it notices).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{CHANNEL_PREFIX}:"},
        }
    }
    # allauth's rate limits live in the cache; workers must share it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_PREFIX,
        }
    }
else:
    # The only layer channel is the hub's, carrying every event for all the process's sockets: the default
    # capacity of 100 would drop events (silently) during a burst.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}}

# Flood control per person (rooms/limits.py), kept in Redis when REDIS_URL is set, so it holds across workers.
# Sends, edits, deletes and reports: a burst of SEND_BURST, then SEND_RATE a second. Someone chatting writes
# a message every few seconds at most; ten at once covers a quick run of short lines and what a page sends
# when it comes back online, while a script is held to one a second. 0 turns a limit off (the benchmark).
SEND_BURST = int(os.environ.get("SEND_BURST", "10"))
SEND_RATE = float(os.environ.get("SEND_RATE", "1"))
# A page's catch-up (on every (re)connect, and when it notices a lost frame) runs the costliest query: every
# tab of a person reconnecting at once after an outage fits in the burst; past it, catch-ups wait their turn.
CATCH_UP_BURST = int(os.environ.get("CATCH_UP_BURST", "20"))
CATCH_UP_RATE = float(os.environ.get("CATCH_UP_RATE", "2"))
# Before any of those, each socket may send FRAME_BURST frames at once, then FRAME_RATE a second, whatever they
# are (checked in memory before a frame is parsed); a page sends far fewer. 0 turns it off (the benchmark).
FRAME_BURST = int(os.environ.get("FRAME_BURST", "30"))
FRAME_RATE = float(os.environ.get("FRAME_RATE", "10"))
# Opening a socket costs a few queries and a presence announcement: a page reloaded, many tabs at once and a
# reconnect after an outage fit the burst; a script opening and closing in a loop is held to a few a second.
CONNECT_BURST = int(os.environ.get("CONNECT_BURST", "30"))
CONNECT_RATE = float(os.environ.get("CONNECT_RATE", "2"))
# New rooms: a few at once, then ROOMS_PER_HOUR (every room is a row in everyone's room list).
ROOMS_BURST = int(os.environ.get("ROOMS_BURST", "5"))
ROOMS_PER_HOUR = float(os.environ.get("ROOMS_PER_HOUR", "20"))

# Background work goes to a queue in the database, run by `manage.py db_worker` (make run starts one; production
# runs its own), so none of it is done while a request or a socket waits.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Web Push (rooms/notify/push.py): the VAPID key pair `manage.py vapid_keys` makes; without it, devices get no
# pushes (pages in hidden tabs and away emails still notify). VAPID_SUBJECT: how push services reach the admin.
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@localhost")
# The push services devices may subscribe through (the server posts to them): the browsers' own. Comma-separated.
PUSH_SERVICES = os.environ.get(
    "PUSH_SERVICES",
    "https://fcm.googleapis.com,https://push.services.mozilla.com,https://notify.windows.com,https://push.apple.com",
).split(",")
# The site's address as people reach it: links in emails, which are sent without a request to read it from.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Link previews (rooms/previews/fetch.py) reach public addresses only. These networks are allowed besides
# (e.g. ["127.0.0.1/32"]: the tests' loopback site); empty in every deployment.
LINK_PREVIEW_ALLOWED_NETWORKS: list[str] = []
# Seconds for fetching one page or picture, its redirects included.
LINK_PREVIEW_TIMEOUT = 5.0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's and allauth's backends, each refusing banned people (accounts/backends.py); allauth's adapter says why.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "rooms:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
# In production an address is confirmed by mail (optional: signing in does not wait for it), which two-factor
# needs (allauth enrols only accounts whose addresses are verified); in development there is no mail to read.
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "none" if DEBUG else "optional")
ACCOUNT_UNIQUE_EMAIL = True
# A stolen session must not be enough to take the account over: changing the email addresses or the password
# asks for the password (or a second factor) again, the old address is told of every change, and a password
# reset goes only to a verified address (accounts.forms).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_FORMS = {"reset_password": "accounts.forms.ResetPasswordForm"}
# allauth's rate limits, written out (its defaults) so they are reviewed here. They live in the cache: with
# REDIS_URL that is Redis, shared by every worker. "ip" is REMOTE_ADDR: behind a proxy the ASGI server must
# set it from X-Forwarded-For (uvicorn does, for the proxies in its --forwarded-allow-ips).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",  # key: the username or email tried
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}

# Two-factor authentication (allauth.mfa): an authenticator app (TOTP) with recovery codes, from the account
# security page. MFA_REQUIRED_FOR_STAFF sends staff without it to enrol before admin opens (on by default in
# production, off in development).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Roomcast"
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", not DEBUG)
# Django 6.1 mailers; development prints mail (e.g. password resets) to the console.
MAILERS = {"default": {"BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}}

# English and Simplified Chinese. A first visit follows the browser's Accept-Language (any Chinese is zh-hans);
# the language menu sets a cookie and, signed in, the account's own language (accounts.Profile), which wins.
# Each language is named in itself in the menu.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stored times are UTC; pages show them in the reader's zone (accounts.Profile.time_zone, from the browser).
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Uploaded files: profile pictures (accounts/avatars.py), re-encoded by us and stored under random names.
# Django serves them while DEBUG is on (the development setup, decided when the settings load: tests turn
# DEBUG off later); in production the proxy serves MEDIA_ROOT at MEDIA_URL, as it serves staticfiles/.
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"
SERVE_MEDIA = DEBUG

# Files shared in rooms (rooms/services/files.py): never under MEDIA_URL, only through the access-checked view.
# Kept on this machine under FILES_ROOT by default; FILES_S3_BUCKET switches to any S3-compatible store
# (django-storages, credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, FILES_S3_ENDPOINT_URL for one
# that is not Amazon's), served by short-lived signed addresses.
FILES_ROOT = Path(os.environ.get("FILES_ROOT", BASE_DIR / "files"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": FILES_ROOT}},
}
if bucket := os.environ.get("FILES_S3_BUCKET", "").strip():
    STORAGES["files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": os.environ.get("FILES_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("FILES_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "signature_version": "s3v4",
            "querystring_expire": 60,  # seconds a signed address works: enough to start the download
            "file_overwrite": False,
            "custom_domain": None,  # an unsigned custom domain would skip the signature and the overrides below
            # Stored opaque: each signed address names the type and disposition the file is served with.
            "object_parameters": {"ContentType": "application/octet-stream", "ContentDisposition": "attachment"},
        },
    }
# How the file view hands a checked file over: "django" streams it itself; "x-accel" (nginx) and "x-sendfile"
# (Apache, Caddy plugins) let the proxy send it (deploy/nginx.conf). Object storage always redirects to a
# signed address.
FILES_SERVED_BY = os.environ.get("FILES_SERVED_BY", "django")
FILES_ACCEL_PREFIX = os.environ.get("FILES_ACCEL_PREFIX", "/protected-files/")  # nginx's internal location
# The largest file, in MB (MiB), checked by the app with a clear refusal; the proxy's own limit
# (deploy/nginx.conf: client_max_body_size) must be a little above it, or the proxy refuses first.
MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "25"))
# Optional storage quota per person, in MB (0: none): what their messages' files take, removed ones until purged.
UPLOAD_QUOTA_MB = int(os.environ.get("UPLOAD_QUOTA_MB", "0"))
# Files of removed messages stay this many days (a moderator may still need them), then are purged.
FILE_RETENTION_DAYS = float(os.environ.get("FILE_RETENTION_DAYS", "30"))
# Uploads (each file is one), per person: a burst, then a steady rate (realtime.limits).
UPLOAD_BURST = int(os.environ.get("UPLOAD_BURST", "20"))
UPLOAD_RATE = float(os.environ.get("UPLOAD_RATE", "0.5"))

# Content Security Policy (Django's middleware), in development too, so a violation shows there first: only
# this site's scripts (the <script> tags carry the response's nonce), styles, images and sockets ('self'
# covers ws:/wss: to the same host under CSP3), no plugins, no <base>, never framed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    # data: for the favicon's unread badge; blob: for a new avatar's preview before it is uploaded.
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"  # frame-ancestors for browsers without CSP
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    # Production is HTTPS, terminated by the proxy in front. The proxy tells the server a request came over
    # HTTPS with X-Forwarded-Proto, which uvicorn trusts from the addresses in --forwarded-allow-ips (default
    # 127.0.0.1); SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO makes Django read it itself instead (only
    # behind a proxy that always sets it). Without either, SECURE_SSL_REDIRECT loops.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    if proxy_ssl_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
        SECURE_PROXY_SSL_HEADER = (proxy_ssl_header, "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # check --deploy suggests both; they bind every subdomain of the domain (and, for preload, browsers'
    # built-in lists, hard to undo), which only its owner can decide: opt in with the variables above.
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"production": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # With DEBUG on, Django prints its own errors; with it off, this one does (500s, failed broadcasts).
        "errors": {"class": "logging.StreamHandler", "level": "ERROR", "filters": ["production"]},
    },
    "root": {"handlers": ["errors"], "level": "ERROR"},
    "loggers": {
        "rooms": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "realtime": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # "Exception inside application": a consumer or view that crashed, with its traceback.
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
