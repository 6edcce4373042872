"""End-to-end wiring: a live Daphne (HTTP + websockets) on the test database, and Debian's Chromium.

The server runs in a child process for the whole session (starting it costs a second or two); every
test uses `transactional_db`, so what a test writes is committed and visible to the server, and the tables
are flushed after each test. The server follows DATABASE_URL / REDIS_URL like the rest of the suite (see the
root conftest): PostgreSQL + channels-redis, or the SQLite test file + the in-memory layer, which works here
because every socket lives in that one server process.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from daphne.testing import DaphneProcess
from playwright.sync_api import expect

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOST = "127.0.0.1"  # in ALLOWED_HOSTS by default, so the socket's Origin check passes
PASSWORD = "Roomcast-e2e-passw0rd!"
E2E_DIR = Path(__file__).resolve().parent

QUIET_BEFORE_FLUSH = 0.2  # seconds the server's database connections must be idle before a test's tables are emptied
# The tests wait for what a user would see; nothing should take anywhere near this long.
ACTION_TIMEOUT_MS = 10_000


# ---- collection --------------------------------------------------------------------------------------------


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).resolve().parents


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """Mark every test under e2e/ and run those tests after everything else.

    Before the other hooks: the `e2e` marker (so -m e2e / -m "not e2e" select on it) and a committed
    database (the server process must see the rows a test writes), emptied after each test but in a module
    whose tests share one scene. After them (-m deselection,
    pytest-django's own reordering): e2e last, because once pytest-playwright has started, the main thread
    carries a "running" event loop for the rest of the session, which would break tests from tests/.
    """
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
            # A module sharing one scene commits it and empties the tables itself (shared_scene): its tests only
            # need the database there, in a transaction of their own that nothing writes to.
            shared = item.get_closest_marker("shared_scene") is not None
            item.add_marker(pytest.mark.django_db(transaction=not shared))
    result = yield
    items[:] = [i for i in items if not _is_e2e(i)] + [i for i in items if _is_e2e(i)]
    return result


# ---- browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: the e2e tests drive Debian's Chromium (apt-get install chromium)"
        if CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(asgi_live_server: LiveServer) -> str:
    # pytest-playwright passes base_url to every context: pages can goto("/rooms/...").
    return asgi_live_server.url


# ---- live ASGI server --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str


def _child_setup(test_db_name: str) -> None:
    """Runs in the server process before it serves: point it at the test database, and make it test-fast.

    The parent passes the test database's name: a fresh interpreter only knows the configured NAME (and
    channels' own `set_database_connection` guesses wrong on PostgreSQL under pytest-django).
    """
    from django.conf import settings
    from django.test.utils import override_settings

    # The app under test keeps Django's async-safety check, whatever the test process needs (see below).
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    settings.DATABASES["default"]["NAME"] = test_db_name
    override_settings(
        # A fast hasher (the default PBKDF2 costs ~0.4 s per sign-up or log-in on a small box). The
        # helpers below hash with MD5 too, so ORM-made users can log in without a slow rehash.
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.MD5PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
        # Every browser here logs in from 127.0.0.1, dozens of times a minute: allauth's per-address limits
        # would refuse them. tests/test_hardening.py checks the limits themselves.
        ACCOUNT_RATE_LIMITS=False,
    ).enable()
    # Each test's flush empties django_content_type and recreates it under new ids; a content type this
    # process cached in an earlier test would then break admin's log (a foreign key). Forget them per request.
    from django.contrib.contenttypes.models import ContentType
    from django.core.signals import request_started

    request_started.connect(lambda **kwargs: ContentType.objects.clear_cache(), weak=False)


class SpawnedDaphne(DaphneProcess):
    """DaphneProcess started with "spawn": a fresh interpreter. A forked child would inherit the parent's
    state after tests/ ran (asgiref's sync-to-async worker thread, event-loop-bound pools), and its first
    database_sync_to_async call would wait forever on a thread that does not exist in the child."""

    context = multiprocessing.get_context("spawn")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # What the parent shares with the child must come from the same (spawn) context.
        self.port = self.context.Value("i", self.port.value)
        self.ready = self.context.Event()
        self.errors = self.context.Queue()

    @staticmethod
    def _Popen(process_obj):  # multiprocessing's own hook for how a Process starts
        return SpawnedDaphne.context.Process._Popen(process_obj)


@contextmanager
def live_daphne(django_db_blocker, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """A Daphne process serving chatsite's ASGI application (HTTP, static files, websockets) on the test
    database; `env` adds to its environment (read by the settings when the child imports them).

    Started as channels' ChannelsLiveServerTestCase does (make_application with ASGIStaticFilesHandler, a
    setup hook that selects the test database), in a fresh interpreter (see SpawnedDaphne).
    """
    from channels.testing.live import make_application
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    db = connections["default"]
    if db.vendor == "sqlite" and db.is_in_memory_db():
        raise pytest.UsageError("The e2e server needs a file or server test database, not in-memory SQLite.")

    saved = {name: os.environ.get(name) for name in env or {}}
    with django_db_blocker.unblock():
        test_db_name = db.settings_dict["NAME"]
        # The child must not share the parent's open database sockets.
        connections.close_all()
        process = SpawnedDaphne(
            HOST,
            partial(make_application, static_wrapper=ASGIStaticFilesHandler),
            setup=partial(_child_setup, test_db_name),
        )
        os.environ.update(env or {})  # a spawned child starts with the environment as it is now
        try:
            process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    try:
        while not process.ready.wait(timeout=0.5):
            if not process.is_alive() or not process.errors.empty():
                detail = process.errors.get(timeout=1)[1] if not process.errors.empty() else "no error reported"
                raise RuntimeError(f"The e2e Daphne server did not start:\n{detail}")
        yield LiveServer(url=f"http://{HOST}:{process.port.value}")
    finally:
        process.terminate()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[LiveServer]:
    """The e2e tests' server, for the whole session. Shared files go to a folder of the session's (the server
    and the task workers read FILES_ROOT from the environment they start with)."""
    from django.conf import settings
    from django.test.utils import override_settings

    root = tmp_path_factory.mktemp("files")
    os.environ["FILES_ROOT"] = str(root)
    files = {**settings.STORAGES["files"], "OPTIONS": {"location": root}}
    with override_settings(STORAGES={**settings.STORAGES, "files": files}):  # scenes made here, read there
        with live_daphne(django_db_blocker) as server:
            yield server


def _work(test_db_name: str) -> None:
    """A task worker process: the settings as every process reads them, on the test database, where the tests'
    loopback site may be reached for link previews (as the server's may not)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from tests.support.linked_site import LOOPBACK

    settings.DATABASES["default"]["NAME"] = test_db_name
    override_settings(LINK_PREVIEW_ALLOWED_NETWORKS=LOOPBACK).enable()
    call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1", verbosity=0)


@pytest.fixture
def task_worker(transactional_db, django_db_blocker) -> Iterator[None]:
    """A db_worker for this test (link previews, thumbnails), in a fresh interpreter (as the e2e server is),
    stopped (SIGTERM, as make run stops it) before the test's tables are flushed."""
    from django.db import connections

    with django_db_blocker.unblock():
        name = connections["default"].settings_dict["NAME"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    worker = multiprocessing.get_context("spawn").Process(target=_work, args=(name,), daemon=True)
    worker.start()
    yield
    worker.terminate()
    worker.join(timeout=10)
    if worker.is_alive():
        worker.kill()


@pytest.fixture(scope="session", autouse=True)
def _e2e_session(asgi_live_server: LiveServer) -> Iterator[None]:
    """Start the server first (before Playwright has threads or a loop), then allow the ORM here.

    pytest-playwright's sync API leaves an event loop marked as running in this thread, so every ORM call
    a test makes (creating users, reading rows, the per-test flush) would raise SynchronousOnlyOperation.
    Set only now: the server process started without it, and tests/ (run before e2e) never see it.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=5_000)
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _e2e_test() -> Iterator[None]:
    yield
    _FRAMES.clear()


@pytest.fixture(autouse=True)
def _server_quiet_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test (its browser contexts are closed first: they are its own fixtures), wait until the server
    has finished what their last requests and sockets started in the database, before the flush empties it.
    A module marked shared_scene builds its scene once and empties the database itself at its end."""
    if request.node.get_closest_marker("shared_scene"):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    server_quiet()


def server_quiet() -> None:
    """Wait until no other connection is running a query: one still running when a flush's TRUNCATE starts
    deadlocked with it (seen once in CI)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # Quiet for a while, not for a moment: a socket closed with its page queries a little later (its presence
    # leaving, who to tell), and one such query between a check and the flush deadlocked again.
    deadline, quiet_since = time.monotonic() + 5, None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state <> 'idle'"
            )
            if cursor.fetchone()[0]:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_BEFORE_FLUSH:
                return
            time.sleep(0.02)


@contextmanager
def shared_scene(django_db_blocker, build: Callable[[], None]) -> Iterator[None]:
    """A module's scene, built once for its tests (marked shared_scene), and the tables emptied after the last,
    as a transactional test's flush does."""
    from django.core.management import call_command

    with django_db_blocker.unblock():  # for the module's tests too: they ask for no database fixture
        in_thread(build)
        try:
            yield
        finally:
            server_quiet()
            call_command("flush", interactive=False, verbosity=0)


# ---- seeding through the service layer ---------------------------------------------------------------------


def in_thread(fn: Callable, *args, **kwargs):
    """Run a service call (which may broadcast through async_to_sync) off this thread, where Playwright keeps
    an event loop running; its database connection is closed afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# ---- users and sessions ------------------------------------------------------------------------------------


def _make_user(username: str, *, superuser: bool = False, password: str = PASSWORD):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import MD5PasswordHasher, make_password

    user = get_user_model()(
        username=username,
        email=f"{username}@example.com",
        is_staff=superuser,
        is_superuser=superuser,
        password=make_password(password, hasher=MD5PasswordHasher()),
    )
    user.save()
    return user


@pytest.fixture
def make_user() -> Callable[..., object]:
    """make_user("alice", superuser=False): a user created straight in the database, for tests where
    signing up is not the journey under test. Password: PASSWORD."""
    return _make_user


# Text of every websocket frame each browser context received, as seen on the wire (not just what the page
# chose to show): privacy checks look here, since a leaked frame aimed at a room the page does not display
# would never show up in the DOM.
_FRAMES: dict[object, list[str]] = {}


def instrument(context) -> None:
    """Per context: count the page's socket openings (htmx:wsOpen) in window.__wsOpens, so a test can wait
    until a page is listening before someone else sends; record received frames; default timeouts."""
    context.add_init_script(
        "document.addEventListener('htmx:wsOpen', () => { window.__wsOpens = (window.__wsOpens || 0) + 1; });"
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    frames = _FRAMES.setdefault(context, [])

    def record(payload: str | bytes) -> None:
        frames.append(payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

    context.on("page", lambda page: page.on("websocket", lambda ws: ws.on("framereceived", record)))


@pytest.fixture
def ws_frames() -> Callable[[object], list[str]]:
    """ws_frames(page) -> the text of every websocket frame that page's browser context has received."""
    return lambda page: list(_FRAMES.get(page.context, []))


def signup(new_context: Callable, username: str, password: str = PASSWORD):
    """Sign up through allauth's real form in a fresh browser context; returns the signed-in page at '/'."""
    context = new_context()
    instrument(context)
    page = context.new_page()
    page.goto("/accounts/signup/")
    form = page.locator("form", has=page.locator("input[name=password2]"))
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=email]").fill(f"{username}@example.com")
    form.locator("input[name=password1]").fill(password)
    form.locator("input[name=password2]").fill(password)
    return _submitted(page, form, username)


def login(page, username: str, password: str = PASSWORD):
    """Log in through allauth's form (login = username or email); lands on the room list."""
    page.goto("/accounts/login/")
    submit_login(page, username, password)
    return _landed(page, username)


def _submitted(page, form, username: str):
    """Submit an account form; the person lands on the room list, signed in."""
    form.locator("button[type=submit]").click()
    return _landed(page, username)


def _landed(page, username: str):
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header .me")).to_contain_text(username)
    return page


@pytest.fixture
def signed_up(new_context) -> Callable[[str], object]:
    """signed_up("alice") -> a page where alice has just signed up through the form."""
    return partial(signup, new_context)


@pytest.fixture
def logged_in(new_context) -> Callable[[str], object]:
    """logged_in("carol") -> a page in a fresh context where carol (created via the ORM) has logged in."""

    def _logged_in(username: str):
        _make_user(username)
        context = new_context()
        instrument(context)
        return login(context.new_page(), username)

    return _logged_in


@pytest.fixture
def admin_page(new_context) -> Callable[[str], object]:
    """admin_page("/admin/rooms/message/") -> a superuser (created via the ORM), logged in through the
    Django admin's own login form in its own context, on that admin page."""

    def _admin_page(path: str = "/admin/"):
        _make_user("admin", superuser=True)
        return admin_login(new_context, "admin", path)

    return _admin_page


def admin_login(new_context, username: str, path: str):
    """A fresh context where `username` (staff) logged in from admin's login page, on `path`. Admin's login
    sends to allauth's (its rate limits and two-factor), which comes back to `path`."""
    context = new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"/admin/login/?next={path}")
    submit_login(page, username)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return page


def submit_login(page, username: str, password: str = PASSWORD) -> None:
    """Fill and send allauth's login form on the page."""
    form = page.locator("form", has=page.locator("input[name=login]"))
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
