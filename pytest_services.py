"""Test-run wiring: which services the suite runs against, and how it behaves when one is missing.

Loaded with `-p pytest_services` (pyproject's addopts), so it runs before pytest-django reads the settings:
a conftest.py would be too late to change DATABASE_URL, REDIS_URL or CHANNEL_PREFIX.

`make test` sets DATABASE_URL (PostgreSQL) and REDIS_URL (channels-redis), the production setup. Under
CI=true a missing service fails the run; elsewhere the suite falls back (SQLite, in-memory layer) and says
so loudly, and tests that need the real service skip with the reason.
"""

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

CI = os.environ.get("CI", "").lower() == "true"
MISSING: dict[str, str] = {}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


for _var, _port in (("DATABASE_URL", 5432), ("REDIS_URL", 6379)):
    _url = os.environ.get(_var)
    if _url and not _url.startswith("sqlite") and not _reachable(_url, _port):
        MISSING[_var] = f"{_var}={_url} is not reachable"
        del os.environ[_var]

# Connections are not kept between calls in tests: a kept one in a worker thread would hold the test database
# open when pytest-django drops it at the end.
os.environ["CONN_MAX_AGE"] = "0"

# Each run gets its own channel-layer prefix, so parallel or leftover runs on one Redis never cross.
os.environ["CHANNEL_PREFIX"] = f"roomcast-test-{uuid.uuid4().hex[:8]}"
# A real secret key (per run), so server processes started by tests can run with DEBUG off and still read the
# sessions the tests make.
os.environ.setdefault("SECRET_KEY", f"roomcast-test-{uuid.uuid4().hex}{uuid.uuid4().hex}")


def pytest_configure(config: pytest.Config) -> None:
    if CI:
        # CI proves the production setup: both services must be configured and up.
        problems = list(MISSING.values()) + [
            f"{v} is not set" for v in ("DATABASE_URL", "REDIS_URL") if v not in os.environ and v not in MISSING
        ]
        if problems:
            pytest.exit("CI=true but a required service is missing: " + "; ".join(problems), returncode=3)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    lines = [
        f"roomcast: database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"channel layer {settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}"
    ]
    lines += [f"roomcast: WARNING {reason}; falling back (tests that need it will SKIP)" for reason in MISSING.values()]
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    if settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):
        return
    reason = MISSING.get("REDIS_URL", "REDIS_URL is not set") + ": this test needs the real Redis channel layer"
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"SKIPPED LOUDLY: {reason}"))
