"""Settings of the example shop: SQLite by default, PostgreSQL when SHOP_PG_PORT is set."""

import os
from pathlib import Path

import parallel_bdd.django  # noqa: F401  (makes 'lettuce.django' below importable)

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []
ROOT_URLCONF = "shop_site.urls"
USE_TZ = True
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DEFAULT_FROM_EMAIL = "shop@example.com"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "lettuce.django",  # as in a lettuce project; 'parallel_bdd.django' works too
    "catalog",
    "orders",
    "contact",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the contact form (a browser sends the token)
]
TEMPLATES = [
    {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True},
]

if os.environ.get("SHOP_PG_PORT"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("SHOP_PG_NAME", "shop"),
            "USER": os.environ.get("SHOP_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("SHOP_PG_PASSWORD", ""),
            "HOST": os.environ.get("SHOP_PG_HOST", "127.0.0.1"),
            "PORT": os.environ["SHOP_PG_PORT"],
        }
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }

# harvest runs on a test database (one clone per worker) unless this says otherwise
LETTUCE_USE_TEST_DATABASE = os.environ.get("SHOP_USE_TEST_DATABASE", "1") == "1"
LETTUCE_AVOID_APPS = ["shop_site"]
