# A minimal Django 3.2 project as it runs in production: DEBUG off, so Django answers 400 to any
# Host not in ALLOWED_HOSTS, health probes from 127.0.0.1 included (hence healthCheckHost).
SECRET_KEY = "compat-suite-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {}
USE_TZ = True
