"""Settings of the peer app: only what the Channels tutorial's chat needs, over the same Redis as Roomcast."""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-peer-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES = {}
USE_TZ = True
ASGI_APPLICATION = "peer.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # Same connection options as Roomcast (socket timeout above channels-redis's blocking pop).
            "hosts": [{"address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"), "socket_timeout": 15}],
            "prefix": os.environ.get("CHANNEL_PREFIX", "bench-peer"),
        },
    }
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "daphne": {"handlers": ["console"], "level": "WARNING"},
        # Its "channels over capacity" INFO lines: run.py counts the frames dropped.
        "channels_redis": {"handlers": ["console"], "level": "INFO"},
    },
}
