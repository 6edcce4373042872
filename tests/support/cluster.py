"""Real uvicorn workers on the test database for the reliability tests: their database URL, a Redis of
their own, page-like clients running (the people are tests/support/people.py's)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from rooms.models import Room

from .production import Page, RedisServer, Workers

CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def database_url(transactional_db) -> str:
    """The test database, for server processes: they must see what the test writes, and it them."""
    if connection.vendor != "postgresql":
        reason = "these tests run the production setup, which needs PostgreSQL (DATABASE_URL)"
        if CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed: the fault tests restart a Redis of their own"
        if CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    server = RedisServer()
    yield server
    server.stop()


@contextmanager
def serving(env: dict[str, str], count: int, tmp_path, name: str) -> Iterator[Workers]:
    workers = Workers(env, count=count, log=tmp_path / f"{name}.log")
    try:
        yield workers
    finally:
        workers.stop()


@contextmanager
def running(pages: list[Page]) -> Iterator[asyncio.Event]:
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(page.run(stop)) for page in pages]
    try:
        yield stop
    finally:
        stop.set()
        for page in pages:
            page.drop()
        for task in tasks:
            task.cancel()


def page(workers: Workers, room: Room, people: dict, who: str) -> Page:
    return Page(workers.address, room.pk, people["cookies"][who], who)
