"""Django settings for Loom.

Everything a production install changes comes from the environment (see README,
"Configuration"); with nothing set, Loom runs on embedded defaults under var/.
"""
import os
import secrets
from pathlib import Path

import dj_database_url

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

DEBUG = os.environ.get("LOOM_DEBUG", "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("LOOM_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LOOM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "tenancy",
    "catalog",
    "workflows",
    "dags",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'loom.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Celery workers and the web process write concurrently; wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # Tests share the database with worker processes and threads, which an in-memory one cannot do.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loom API",
    "DESCRIPTION": "Workflows of parameterized notebooks, run locally or on Apache Airflow.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Uploads: a notebook larger than this is refused with 400 (README documents it).
LOOM_NOTEBOOK_MAX_BYTES = int(os.environ.get("LOOM_NOTEBOOK_MAX_BYTES", 5 * 1024 * 1024))
# Request bodies (a workflow graph, a multipart upload) above this are refused by Django.
DATA_UPLOAD_MAX_MEMORY_SIZE = LOOM_NOTEBOOK_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
LOOM_NOTEBOOKS_DIR = Path(os.environ.get("LOOM_NOTEBOOKS_DIR", REPO_DIR / "notebooks"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOOM_LOG_LEVEL", "INFO")},
}
