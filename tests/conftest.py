import threading

import pytest

from .support.people import alice, bob, people  # noqa: F401 (fixtures for every test module)
from .support.servers import embedded_server, uvicorn_server  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _pool_connections_closed(django_db_setup, django_db_blocker):
    """channels' test communicator keeps the database connections that consumers open (it patches out their
    closing); the sockets' pool threads (rooms.consumers.DB_POOL) and asgiref's thread for thread-sensitive
    calls would then hold the test database open when pytest-django drops it. Close them first, once per
    thread: the barrier keeps each closing task on a pool thread of its own."""
    yield
    from asgiref.sync import SyncToAsync
    from django.conf import settings
    from django.db import connections

    from rooms.consumers import DB_POOL

    barrier = threading.Barrier(settings.DB_THREADS)

    def close() -> None:
        connections.close_all()
        barrier.wait(timeout=10)

    with django_db_blocker.unblock():
        for done in [DB_POOL.submit(close) for _ in range(settings.DB_THREADS)]:
            done.result()
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs about half a second per password on this box, and most tests make two or three people:
    they hash with MD5 (PBKDF2 stays listed, so a hash made by a server process still checks)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _fresh_login_rate_limits():
    """allauth counts failed logins per address and per login name in the cache, for minutes: a test that
    logs in as alice must not be refused for another test's failures (a banned login counts as one)."""
    yield
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]  # the backend itself: django.core.cache.cache is a proxy, never a RedisCache
    if isinstance(cache, RedisCache):  # shared with other runs: only this run's counters (never FLUSHDB)
        client = cache._cache.get_client(write=True)
        if keys := list(client.scan_iter(match=f"{settings.CHANNEL_PREFIX}:*allauth:rl:*")):
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """Django's LocaleMiddleware activates a request's language in the thread that serves it and leaves it
    there; the test client serves requests in the test's own thread, so a Chinese request would make the next
    test's services answer in Chinese. Each test starts in the default language."""
    yield
    from django.utils import translation

    translation.deactivate()
