"""Django settings for Loom.

Everything a production install changes comes from the environment (see README,
"Configuration"); with nothing set, Loom runs on embedded defaults under var/.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from runtime.sandbox import sandbox_config

REPO_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("LOOM_DATA_DIR", REPO_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret(filename: str, make) -> str:
    """Read a development secret from DATA_DIR, creating it once (kept out of git)."""
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = os.environ.get("LOOM_SECRET_KEY") or _dev_secret("django-secret.txt", lambda: secrets.token_urlsafe(50))
# Connection secrets are encrypted with this Fernet key. Production sets LOOM_ENCRYPTION_KEY;
# several comma-separated keys rotate (the first encrypts, all decrypt).
LOOM_ENCRYPTION_KEY = os.environ.get("LOOM_ENCRYPTION_KEY") or _dev_secret("encryption.key", _fernet_key)

def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default) == "1"


# Off unless told: `make run` (scripts/run.sh) sets LOOM_DEBUG=1 for development.
DEBUG = _flag("LOOM_DEBUG")
ALLOWED_HOSTS = [h for h in os.environ.get("LOOM_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LOOM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# HTTPS (README, "Configuration"): LOOM_HTTPS=1 when users reach Loom over https, directly or
# through a proxy. Cookies are then sent over https only, http is redirected, and browsers are
# told (HSTS) to use https for LOOM_HSTS_SECONDS. Behind a proxy that terminates TLS, set
# LOOM_PROXY_SSL_HEADER=1 so Django believes its X-Forwarded-Proto (only if the proxy always
# sets it: otherwise clients could claim https themselves).
LOOM_HTTPS = _flag("LOOM_HTTPS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = LOOM_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("LOOM_HSTS_SECONDS", 31536000)) if LOOM_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("LOOM_HSTS_INCLUDE_SUBDOMAINS", "1")
SECURE_HSTS_PRELOAD = _flag("LOOM_HSTS_PRELOAD", "1")
if _flag("LOOM_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "loom.apps.LoomAdminConfig",  # Django's admin, for platform admins only (loom.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "tenancy",
    "catalog",
    "workflows",
    "dags",
    "runs",
    "web",
    "deployments",
    "schedules",
    "django_celery_beat",
    "audit",
    "ops",
    "alerts",
]

MIDDLEWARE = [
    # /healthz, /readyz, /metrics: answered before the host check and the https redirect, for
    # probes that reach a container by its address over plain http (ops.middleware).
    "ops.middleware.OpsEndpointsMiddleware",
    # Outermost but for the probes, so that every error under /api/ (a URL that does not exist, a crash, a request
    # refused by another middleware) answers JSON, never Django's HTML page.
    "loom.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "loom.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/, see "Production serving" below
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.AuditRequestMiddleware",  # who acts, for the audit log
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused for too many failures into web.logins.lockout_response (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "loom.urls"
WSGI_APPLICATION = "loom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Connections live up to LOOM_DB_CONN_MAX_AGE (60 s; 0: one per request, for a threaded server such
# as runserver, whose finished threads would otherwise each hold one); each request (and each worker task or reaper pass) first checks
# that its pooled connection still works, so one dropped by the server (a restart, a failover,
# pg_terminate_backend) is replaced instead of failing the request.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'loom.sqlite3'}", conn_max_age=int(os.environ.get("LOOM_DB_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Celery workers and the web process write concurrently; wait for the lock instead of failing.
    # WAL lets readers (the API polling a run) proceed while a worker writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # Tests share the database with worker processes and threads, which an in-memory one cannot do.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Every password Loom sets (members created with one, the demo users, createsuperuser,
# changepassword, /admin/) must pass these.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in ("UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
                 "NumericPasswordValidator")
] + [{"NAME": "accounts.passwords.RevokeTokensOnPasswordChange"}]  # Django's hook for every password change
# API tokens (README, "API tokens"): django-rest-knox's hashed tokens, with a name and last use.
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's migrations would create its own table, unused once swapped (and one `flush` skips).
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_PREFIX": "loom_"}  # a recognisable secret, for secret scanners
LOOM_TOKEN_DEFAULT_DAYS = int(os.environ.get("LOOM_TOKEN_DEFAULT_DAYS", 30))
LOOM_TOKEN_MAX_DAYS = int(os.environ.get("LOOM_TOKEN_MAX_DAYS", 365))
LOOM_TOKEN_MAX_PER_USER = int(os.environ.get("LOOM_TOKEN_MAX_PER_USER", 100))
# Failed logins are throttled by django-axes (web/logins.py): after LOOM_LOGIN_FAILURE_LIMIT
# failures for one username, or from one address, logins from there are refused (429) for
# LOOM_LOGIN_COOLOFF_MINUTES. The axes backend comes first so that it refuses before a password
# is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOOM_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOOM_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.logins.lockout_response"
AXES_CLIENT_IP_CALLABLE = "web.logins.client_ip"
AXES_VERBOSE = False
# The audit log keeps entries this many days (manage.py prune_audit deletes older ones).
LOOM_AUDIT_RETENTION_DAYS = int(os.environ.get("LOOM_AUDIT_RETENTION_DAYS", 365))
# Proxies in front of Loom that append to X-Forwarded-For; 0 = clients connect directly.
LOOM_TRUSTED_PROXIES = int(os.environ.get("LOOM_TRUSTED_PROXIES", 0))
# Invitations (README, "Roles") are mailed through Django's email backend: the console (the
# server's log) unless LOOM_EMAIL_HOST names an SMTP server. The link starts with LOOM_PUBLIC_URL.
EMAIL_BACKEND = "django.core.mail.backends." + ("smtp" if os.environ.get("LOOM_EMAIL_HOST") else "console") + ".EmailBackend"
EMAIL_HOST = os.environ.get("LOOM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("LOOM_EMAIL_PORT", 587))
EMAIL_HOST_USER = os.environ.get("LOOM_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LOOM_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("LOOM_EMAIL_TLS", "1") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("LOOM_EMAIL_FROM", "loom@localhost")
LOOM_PUBLIC_URL = os.environ.get("LOOM_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
LOOM_INVITATION_DAYS = int(os.environ.get("LOOM_INVITATION_DAYS", 7))
# Alerts (README, "Alerts"): a delivery the receiver fails (5xx, a timeout) is tried again after
# LOOM_ALERT_RETRY_S, doubled each time (at most an hour), LOOM_ALERT_ATTEMPTS times in all.
LOOM_ALERT_RETRY_S = float(os.environ.get("LOOM_ALERT_RETRY_S", 30))
LOOM_ALERT_ATTEMPTS = int(os.environ.get("LOOM_ALERT_ATTEMPTS", 6))
LOOM_ALERT_TIMEOUT_S = float(os.environ.get("LOOM_ALERT_TIMEOUT_S", 10))
# How often beat looks for runs still going past their duration rules (a duration alert's lateness).
LOOM_ALERT_DURATION_CHECK_S = float(os.environ.get("LOOM_ALERT_DURATION_CHECK_S", 60))
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Domain errors (loom.errors) become their HTTP answer here, not in each view.
    "EXCEPTION_HANDLER": "loom.errors.api_exception_handler",
    # No OPTIONS metadata (DRF's describes each view's serializers by running its permission
    # checks outside the tenant scoping, and crashed): OPTIONS answers 405, the schema at
    # /api/schema/ describes the API.
    "DEFAULT_METADATA_CLASS": None,
    # JSON only. DRF's browsable HTML API ran its forms' permission checks outside the tenant
    # scoping and answered 500 on every tenant path; /api/docs/ is the interactive API.
    "DEFAULT_RENDERER_CLASSES": ["loom.renderers.RawJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "loom.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loom API",
    "DESCRIPTION": "Workflows of parameterized notebooks, run locally or on Apache Airflow.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's files, served by Loom: no CDN (loom.csp).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Runs and deployments both have a `status`, with different choices: name the second enum.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "runs.models.Status",
        "DeploymentStatusEnum": "deployments.models.DeploymentStatus",
        "BackfillStatusEnum": "schedules.models.BackfillStatus",
        "ActionEnum": "audit.models.Action",
    },
    # Every operation's error answers, with their one JSON shape (loom/openapi.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "loom.openapi.error_responses"],
}

# Uploads: a notebook larger than this is refused with 400 (README documents it).
LOOM_NOTEBOOK_MAX_BYTES = int(os.environ.get("LOOM_NOTEBOOK_MAX_BYTES", 5 * 1024 * 1024))
# What one workflow may hold (docs/workflow-graph.md, "Limits"); the API refuses more with a 400.
LOOM_GRAPH_MAX_NODES = int(os.environ.get("LOOM_GRAPH_MAX_NODES", 2000))
LOOM_GRAPH_MAX_EDGES = int(os.environ.get("LOOM_GRAPH_MAX_EDGES", 8000))
LOOM_VALUE_MAX_BYTES = int(os.environ.get("LOOM_VALUE_MAX_BYTES", 64 * 1024))
# Each web process keeps the graphs of the workflow versions it showed last, up to this many MB of
# JSON text (a 1,000-node graph is about 0.6 MB): a version never changes, so a GET need not read it again.
LOOM_GRAPH_CACHE_MB = float(os.environ.get("LOOM_GRAPH_CACHE_MB", 32))
# Request bodies (a workflow graph, a multipart upload) above this are refused by Django.
DATA_UPLOAD_MAX_MEMORY_SIZE = LOOM_NOTEBOOK_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# ... and larger uploads are refused from their Content-Length, before being read (413).
FILE_UPLOAD_HANDLERS = [
    "loom.parsers.BodyLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
LOOM_NOTEBOOKS_DIR = Path(os.environ.get("LOOM_NOTEBOOKS_DIR", REPO_DIR / "notebooks"))
# The browser editor, built by `make install` (Vite) and served by the `web` app.
LOOM_FRONTEND_DIST = Path(os.environ.get("LOOM_FRONTEND_DIST", REPO_DIR / "frontend" / "dist"))

# --- Local engine (README, "Running workflows (local engine)") ---------------------------------
# Broker: Redis when REDIS_URL is set; otherwise an embedded broker in files under var/broker
# (runs.broker), so `make run` needs no server. Run state lives in the database either way.
REDIS_URL = os.environ.get("REDIS_URL", "")
LOOM_BROKER_DIR = Path(os.environ.get("LOOM_BROKER_DIR", DATA_DIR / "broker"))
CELERY_BROKER_URL = REDIS_URL or "loomfs://"
CELERY_BROKER_TRANSPORT_OPTIONS = {} if REDIS_URL else {
    "data_folder": str(LOOM_BROKER_DIR), "control_folder": str(LOOM_BROKER_DIR / "control"),
    "data_folder_in": str(LOOM_BROKER_DIR / "queue"), "data_folder_out": str(LOOM_BROKER_DIR / "queue"),
    "polling_interval": 0.01,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("LOOM_QUEUE", "loom")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# One message reserved per free thread: a busy worker leaves the rest to idle ones.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_ENABLE_REMOTE_CONTROL = bool(REDIS_URL)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

LOOM_WORKER_CONCURRENCY = int(os.environ.get("LOOM_WORKER_CONCURRENCY", 4))
# Kernels each worker keeps started ahead of need (each idle kernel holds ~50 MB).
LOOM_KERNEL_POOL = int(os.environ.get("LOOM_KERNEL_POOL", 12))
# A fanned-out node runs at most this many items at once, unless the node sets max_active.
LOOM_MAP_MAX_ACTIVE = int(os.environ.get("LOOM_MAP_MAX_ACTIVE", 16))
LOOM_MAP_MAX_ITEMS = int(os.environ.get("LOOM_MAP_MAX_ITEMS", 10_000))
# Runs whose fanned-out items a worker forks from a warm interpreter in the run's sandbox at once
# (runtime/zygote.py; ~60 MB each); 0: every item's kernel starts on its own, like other nodes.
LOOM_RUN_SANDBOXES = int(os.environ.get("LOOM_RUN_SANDBOXES", 4))
# Recovery bound: an attempt whose worker died is failed (or retried) at most
# LOOM_HEARTBEAT_TIMEOUT_S + LOOM_REAP_INTERVAL_S after its last heartbeat, by any live worker.
LOOM_HEARTBEAT_S = float(os.environ.get("LOOM_HEARTBEAT_S", 2))
LOOM_HEARTBEAT_TIMEOUT_S = float(os.environ.get("LOOM_HEARTBEAT_TIMEOUT_S", 15))
LOOM_REAP_INTERVAL_S = float(os.environ.get("LOOM_REAP_INTERVAL_S", 5))
# Loom's scheduler (schedules.scheduler): Celery beat sends its tick this often; a backfill has at
# most LOOM_BACKFILL_MAX_DATES logical dates.
LOOM_SCHEDULER_TICK_S = float(os.environ.get("LOOM_SCHEDULER_TICK_S", 5))
LOOM_BACKFILL_MAX_DATES = int(os.environ.get("LOOM_BACKFILL_MAX_DATES", 1000))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "loom-scheduler-tick": {"task": "schedules.tick", "schedule": LOOM_SCHEDULER_TICK_S},
    # Alert deliveries whose message the broker lost or whose worker stopped are sent again.
    "loom-alerts-resend": {"task": "alerts.deliveries_resend", "schedule": 60.0},
    # Runs on either engine still going past their version's duration rules alert before they end.
    "loom-alerts-durations": {"task": "alerts.durations_check", "schedule": LOOM_ALERT_DURATION_CHECK_S},
}
LOOM_REDISPATCH_AFTER_S = float(os.environ.get("LOOM_REDISPATCH_AFTER_S", 120))
LOOM_ARTIFACTS_DIR = Path(os.environ.get("LOOM_ARTIFACTS_DIR", DATA_DIR / "artifacts"))
# Where notebooks run (docs/sandbox.md): LOOM_SANDBOX, LOOM_SANDBOX_NETWORK, LOOM_KERNEL_MEMORY_MB,
# LOOM_KERNEL_MAX_PROCS, LOOM_NOTEBOOK_ENV, read by the Django-free runtime.sandbox. Per-kernel
# folders live beside the artifacts (same filesystem: upstream files are hard-linked in).
LOOM_SANDBOX = sandbox_config(os.environ, root=os.environ.get("LOOM_SANDBOX_DIR") or DATA_DIR / "sandboxes")
# "Test connection" (docs/admin.md): how long the driver may try, in seconds; the sandbox gets 10 s more.
LOOM_CONNECTION_TEST_TIMEOUT_S = float(os.environ.get("LOOM_CONNECTION_TEST_TIMEOUT_S", 10))

# --- Airflow engine (README, "Running on Airflow") --------------------------------------------
# Unset LOOM_AIRFLOW_URL or LOOM_AIRFLOW_DAGS_DIR: the "airflow" engine is unavailable (503) and
# the local engine works as ever.
LOOM_AIRFLOW_URL = os.environ.get("LOOM_AIRFLOW_URL", "")
LOOM_AIRFLOW_USERNAME = os.environ.get("LOOM_AIRFLOW_USERNAME", "")
LOOM_AIRFLOW_PASSWORD = os.environ.get("LOOM_AIRFLOW_PASSWORD", "")
# The folder of Airflow's DAG folder (or inside it) where Loom writes <tenant>/<dag id>.py and
# <tenant>/loom-notebooks/...; it must be this path on Loom's machine too (a shared volume).
LOOM_AIRFLOW_DAGS_DIR = os.environ.get("LOOM_AIRFLOW_DAGS_DIR", "")
# Where Airflow's tasks write executed notebooks (<tenant>/<dag id>/<run id>/<task>[/<map index>]/) as
# Loom sees it; deploys set Airflow's Variable loom_artifacts_dir to it (a worker's own
# LOOM_AIRFLOW_ARTIFACTS_DIR environment variable wins, for a mount at another path there).
LOOM_AIRFLOW_ARTIFACTS_DIR = Path(os.environ.get("LOOM_AIRFLOW_ARTIFACTS_DIR", DATA_DIR / "airflow-artifacts"))
# How often a worker mirrors Airflow's runs: one request per active run, plus one for the list of runs.
LOOM_AIRFLOW_POLL_S = float(os.environ.get("LOOM_AIRFLOW_POLL_S", 2))
# How long a deploy waits for Airflow to parse the DAG before it counts as failed.
LOOM_AIRFLOW_PARSE_TIMEOUT_S = float(os.environ.get("LOOM_AIRFLOW_PARSE_TIMEOUT_S", 120))
# A run's submission (deploy if needed, wait for the parse, trigger) not done this long after it
# was asked for is lost (its task's message or worker gone): sent once more, then the run fails.
LOOM_AIRFLOW_SUBMIT_TIMEOUT_S = float(os.environ.get("LOOM_AIRFLOW_SUBMIT_TIMEOUT_S", LOOM_AIRFLOW_PARSE_TIMEOUT_S + 60))
# Timeout of one request to Airflow's REST API.
LOOM_AIRFLOW_TIMEOUT_S = float(os.environ.get("LOOM_AIRFLOW_TIMEOUT_S", 10))

# --- Limits of one notebook (docs/sandbox.md, "Limits") ---------------------------
# LOOM_NODE_TIMEOUT_S, LOOM_NODE_TIMEOUT_MAX_S, LOOM_OUTPUT_MAX_BYTES, LOOM_NOTEBOOK_OUTPUT_MAX_BYTES,
# LOOM_STREAM_MAX_BYTES, LOOM_NODE_FILES_MAX, LOOM_NODE_ARTIFACTS_MAX_MB, LOOM_TENANT_ARTIFACTS_MAX_MB
# (all artifacts of one tenant; its own quota may only be lower): read by runtime.limits, whose
# defaults a DAG's tasks share on Airflow's workers.
from runtime.limits import limits_from_env  # noqa: E402 - standard library only

LOOM_NODE_LIMITS = limits_from_env(os.environ)
# --- Production serving (docs/production.md) ---------------------------------------------------
# Django's own static files (admin, API docs) are served by WhiteNoise from STATIC_ROOT, filled
# by `manage.py collectstatic` (the Docker image does it at build time), with hashed,
# compressed names cached for good (loom.storage). The editor's build is served by web.views.
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("LOOM_STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at every start about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "loom.storage.StaticFilesStorage"},
}

# Logs: plain text by default; one JSON object per line with LOOM_LOG_FORMAT=json, for a log
# collector (web, workers and Celery all log through the root logger; gunicorn.conf.py reuses it).
from loom.logs import JSON_FORMATTER  # noqa: E402 - a constant

LOOM_LOG_FORMAT = os.environ.get("LOOM_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             **({"formatter": "json"} if LOOM_LOG_FORMAT == "json" else {})}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOOM_LOG_LEVEL", "INFO")},
}

# /metrics asks for `Authorization: Bearer <LOOM_METRICS_TOKEN>` when set; unset, it is open (an
# internal network only). Each worker serves its kernel pool's figures on LOOM_WORKER_METRICS_PORT.
LOOM_METRICS_TOKEN = os.environ.get("LOOM_METRICS_TOKEN", "")
LOOM_WORKER_METRICS_PORT = int(os.environ.get("LOOM_WORKER_METRICS_PORT", 0))
