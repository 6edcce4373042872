"""Roomcast's own settings, unchanged, plus one logger: channels-redis's INFO "over capacity" lines, from
which run.py counts the frames the layer dropped. Everything else is the production setup from the env."""

from chatsite.settings import *  # noqa: F403
from chatsite.settings import LOGGING

LOGGING = {
    **LOGGING,
    "handlers": {**LOGGING.get("handlers", {}), "bench_console": {"class": "logging.StreamHandler"}},
    "loggers": {
        **LOGGING.get("loggers", {}),
        "channels_redis": {"handlers": ["bench_console"], "level": "INFO", "propagate": False},
    },
}
