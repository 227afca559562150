"""Settings of the reference API: everything that differs per environment comes from the environment.

No database (the API only reads DynamoDB), no keys (AWS credentials come from the pod's role, IRSA, or
the standard chain), DEBUG off unless asked, the hosts it answers to listed explicitly.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or os.urandom(32).hex()  # no sessions or forms use it
DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]

INSTALLED_APPS = ["consultas"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "api_productizar.urls"
WSGI_APPLICATION = "api_productizar.wsgi.application"
DATABASES: dict = {}  # read-only API over DynamoDB: no migrations, no db.sqlite3
USE_TZ = True
APPEND_SLASH = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
