"""Shared fixtures: a real throwaway PostGIS cluster, the app, a live server, Chromium.

The cluster is started once per test session in a temporary directory and destroyed at
the end. ``TEST_DATABASE_URL`` points the suite at an existing PostGIS database instead:
it must be disposable, since every test empties the tables it used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api import clock
from api.cluster import LocalCluster, free_port
from api.config import PROJECT_ROOT, Settings
from api.db import make_engine, make_session_factory, migrate
from api.deps import CSRF_COOKIE, SESSION_COOKIE
from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from api.services.demo import load_demo
from api.services.demo_accounts import DEMO_ACCOUNTS
from api.services.sessions import open_session
from geo.accounts import Actor
from psq.app import create_app
from tests.clock import TODAY
from tests.db_snapshot import Snapshots
from tests.plan_checks import check_every_plan
from tests.roles import PASSWORD, bearer_for
from web.printing import CHROMIUM_ARGS, chromium_path

#: The e-mail of the ``admin`` account the test client calls the API as.
ADMIN = "direction@tests.example"
#: The access tests' world (fixtures ``world`` and ``massy``), the OGC API's (``ogc_world``),
#: and the log of the routes the tests call (tests/route_log.py).
pytest_plugins = ["tests.route_log", "tests.access_world", "tests.api.ogc_world"]

DEMO_DIR = PROJECT_ROOT / "data" / "boundaries"
# One day for the whole session (tests/clock.py): this process's clock, its live servers
# (the settings below) and the commands it starts (the environment) all read it.
os.environ["PSQ_TODAY"] = TODAY.isoformat()
# Every test reads the maps exact after its writes; tests/api/test_map_refresh.py turns the
# late maps (api.map_cache.MapCache.get_or_refresh) on for its own context.
os.environ["PSQ_MAP_STALE_SECONDS"] = "0"
clock.freeze(TODAY)
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TABLES = (
    "notification_attempt",
    "notification",
    "web_session",
    "login_attempt",
    "api_token",
    "account_gpo",
    "alert_preference",
    "csi_contract_version",
    "csi_contract",
    "convention_referent",
    "convention",
    "intervention",
    "account_commune",
    "account_csp",
    "account",
    "audit_document",
    "audit_event",
    "audit_request",
    "referent",
    "address",
    "address_street",
    "evaluation",
    "action_event",
    "meeting_decision",
    "meeting_partner",
    "action",
    "problem_event",
    "problem_place",
    "problem",
    "meeting",
    "gpo_partner",
    "gpo",
    "partner",
    "job",
    "plan_cell",
    "plan_sector",
    "plan",
    "cell_edge",
    # kept by the triggers of problem (migrations 0024, 0025): copied back as it was taken (the
    # problems are copied back before the cells, when their triggers find no cell)
    "cell_count",
    "cell_month_count",
    "cell",
    "grid",
    "layer_feature",
    "layer",
    "commune_qpv",
    "csp_commune",
    "csp",
    "commune",
)

#: The demo's rows, loaded once per test process (the fixtures ``demo``, ``demo_adopted``).
SNAPSHOTS = Snapshots([*TABLES, "audit_log"])


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        migrate(url)
        yield url
        return
    base = Path(tempfile.mkdtemp(prefix="psq-test-"))
    base.chmod(0o755)  # the server runs as the postgres user when the tests run as root
    cluster = LocalCluster(base / "pg", port=free_port(), database="test", durable=False)
    try:
        url = cluster.start()
        migrate(url)
        yield url
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory on an empty database; the tables are emptied after the test,
    once every sector plan it made is checked on the ground (tests/plan_checks.py)."""
    _truncate(engine)
    yield make_session_factory(engine)
    try:
        check_every_plan(engine)
    finally:
        _truncate(engine)


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        # The audit trail is append-only (triggers refuse TRUNCATE): only the test
        # harness lifts that, inside its own transaction, which no one else sees.
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("TRUNCATE audit_log RESTART IDENTITY"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def demo(engine: Engine, factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The database holding the shipped demo territory (Territoire de Belfort), without
    its adopted plan: the tests of plans and problems adopt their own. Loaded once per
    test process, copied back after (tests/db_snapshot.py)."""
    SNAPSHOTS.load(
        engine,
        "demo",
        lambda: load_demo(Context(factory), demo_dir=DEMO_DIR, adopt=False, extras=False),
    )
    return factory


@pytest.fixture
def demo_adopted(engine: Engine, factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The demo territory as shipped: an adopted sector plan, GPOs with synthetic meetings,
    two years of synthetic problems. Loaded once per test process, copied back after."""
    SNAPSHOTS.load(
        engine,
        "demo_adopted",
        lambda: load_demo(Context(factory), demo_dir=DEMO_DIR, extras=False),
    )
    return factory


#: The apps built in this process, by their settings (their temporary directory aside),
#: and those serving a test now.
_APPS: dict[tuple[str, bool], FastAPI] = {}
_APPS_IN_USE: set[int] = set()


@contextmanager
def app_for(settings: Settings, *, local_database: bool = False) -> Iterator[FastAPI]:
    """``create_app(settings)``, built once per process for the same settings: building
    the routes costs seconds, and each test still runs its own lifespan (a new context,
    job runner and caches) around its requests. An app already serving (a test with a
    client and a live server) is not shared: a second one is built."""
    key = (settings.model_dump_json(exclude={"var_dir"}), local_database)
    app = _APPS.get(key)
    if app is None or id(app) in _APPS_IN_USE:
        from tests.route_log import record_routes  # a plugin: imported once pytest knows it

        app = record_routes(create_app(settings, local_database=local_database))
        _APPS.setdefault(key, app)
    app.state.settings = settings
    _APPS_IN_USE.add(id(app))
    try:
        yield app
    finally:
        _APPS_IN_USE.discard(id(app))


def _demo_first(request: pytest.FixtureRequest) -> None:
    """Load the demo a test asks for before the client writes its account, so that it
    lands in an empty database and its copy can serve (tests/db_snapshot.py)."""
    for name in ("demo_adopted", "demo"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            return


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Each engine proposal's bound gets 0.25 s instead of 2 (tests/geo/test_exact.py
    # checks its value): some forty proposals would otherwise add over a minute. A job
    # stops after 30 s: an exact proposal the schema fuzz asks for (up to 30 min of
    # search) must not outlive the run.
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        demo_dir=DEMO_DIR,
        today=TODAY,
        bound_seconds=0.25,
        job_deadline_minutes=0.5,
    )


@pytest.fixture
def client(
    settings: Settings, factory: sessionmaker[Session], request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    """The app, called by the DDSP's direction (an ``admin`` account's bearer token on
    every request): the tests of what a role may not do use :mod:`tests.roles`."""
    del factory  # requested for its clean database
    _demo_first(request)
    with app_for(settings) as app, TestClient(app) as client:
        client.headers.update(bearer_for(client.app.state.context, "admin", email=ADMIN))
        yield client


@pytest.fixture
def anonymous_client(
    settings: Settings, factory: sessionmaker[Session], request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    """The app, called without credentials (the sign-in and session tests)."""
    del factory
    _demo_first(request)
    with app_for(settings) as app, TestClient(app) as client:
        yield client


@contextmanager
def serving(settings: Settings, *, local_database: bool = False) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread: its base URL.
    ``local_database``: as ``psq serve`` on its own local cluster (see :func:`create_app`)."""
    port = free_port()
    with app_for(settings, local_database=local_database) as app:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings, demo: sessionmaker[Session]) -> Iterator[str]:
    """The app on loopback with the demo territory (no adopted plan)."""
    del demo
    with serving(settings) as url:
        yield url


@pytest.fixture
def live_demo(settings: Settings, demo_adopted: sessionmaker[Session]) -> Iterator[str]:
    """The app on loopback with the demo as shipped (adopted plan, GPOs, meetings)."""
    del demo_adopted
    with serving(settings) as url:
        yield url


#: The Content-Security-Policy violations the pages of the current test reported.
CSP_VIOLATIONS: list[str] = []


def _wait_for_function(page: Any, expression: str, *, timeout: float = 30_000, **_: Any) -> Any:
    """``page.wait_for_function`` polled from outside the page: Playwright's own evaluates
    the string inside the page, which the app's CSP forbids (no ``'unsafe-eval'``), while
    ``page.evaluate`` goes through the DevTools protocol, which the CSP does not govern.
    As Playwright's own, it waits across a navigation: while the next page has no body
    (or no context) yet, the expression cannot be evaluated, and is tried again."""
    deadline = time.monotonic() + timeout / 1000
    failure: PlaywrightError | None = None
    while True:
        try:
            if value := page.evaluate(expression):
                return value
        except PlaywrightError as exc:  # a navigation in flight
            failure = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_function: {expression!r} still false") from failure
        page.wait_for_timeout(50)


#: The e-mails of the accounts :meth:`CheckedBrowser.new_page` signs pages in with when
#: the demo has none of the role (only an admin needs no binding).
BROWSER_ACCOUNT = "{role}@browser.tests.example"


def _account_of_role(ctx: Context, role: str) -> int:
    """The id of an active account of ``role``: the demo's (:data:`DEMO_ACCOUNTS`) when
    the demo is loaded, else the browser's own, created (admin only: the other roles
    need bindings, which the demo chooses from its data)."""
    listed = {a.email: a for a in accounts.list_accounts(ctx).data}
    for email in (DEMO_ACCOUNTS.get(role), BROWSER_ACCOUNT.format(role=role)):
        found = listed.get(email or "")
        if found is not None and found.active and found.role == role:
            return found.id
    if role != "admin":
        raise LookupError(f"no account of role {role}: load the demo with its adopted plan")
    created = accounts.create_account(
        ctx.acting(Actor.cli("tests")),
        AccountCreate(
            email=BROWSER_ACCOUNT.format(role=role),
            name="Direction (tests)",
            role=role,
            password=PASSWORD,
        ),
    )
    return created.id


def _csrf_headers(page: Any) -> dict[str, str]:
    """The ``X-CSRF-Token`` header of the page's session (from its ``psq_csrf`` cookie), as
    ``web/static/js/api.js`` adds it: for the writes a test sends with ``page.request``."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return {"X-CSRF-Token": cookies[CSRF_COOKIE]} if CSRF_COOKIE in cookies else {}


class CheckedBrowser:
    """The browser, whose pages record CSP violations (checked after each test), wait for
    functions without ``eval`` in the page (:func:`_wait_for_function`) and are signed in
    (:meth:`new_page`)."""

    def __init__(self, browser: Any, request: pytest.FixtureRequest) -> None:
        self._browser = browser
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def sign_in(self, page: Any, role: str) -> None:
        """Give ``page`` the cookies of a new web session of an account of ``role``,
        opened by the service on the test database (as ``/api/auth/login`` does)."""
        ctx = Context(self._request.getfixturevalue("factory"))
        opened = open_session(
            ctx.acting(Actor.anonymous(), "127.0.0.1"), _account_of_role(ctx, role)
        )
        page.context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": opened.session_id,
                    "domain": "127.0.0.1",
                    "path": "/",
                    "httpOnly": True,
                    "sameSite": "Lax",
                },
                {
                    "name": CSRF_COOKIE,
                    "value": opened.csrf_token,
                    "domain": "127.0.0.1",
                    "path": "/",
                    "httpOnly": False,
                    "sameSite": "Lax",
                },
            ]
        )

    def new_page(self, role: str | None = "admin", **kwargs: Any) -> Any:
        """A page (in its own browser context) signed in as an account of ``role`` before
        any navigation; ``role=None`` for an anonymous visitor. ``kwargs`` go to
        Playwright's ``new_page``."""
        page = self._browser.new_page(**kwargs)
        if role is not None:
            self.sign_in(page, role)
        page.on(
            "console",
            lambda m: (
                CSP_VIOLATIONS.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text
                else None
            ),
        )
        page.wait_for_function = lambda expression, **kw: _wait_for_function(page, expression, **kw)
        page.csrf_headers = lambda: _csrf_headers(page)
        return page


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # French, as the app's users: date fields show jj/mm/aaaa (Chromium on Linux takes
        # its language from LANGUAGE, with Debian's chromium-l10n, scripts/bootstrap.sh).
        browser = p.chromium.launch(
            executable_path=chromium_path(),
            args=[*CHROMIUM_ARGS, "--lang=fr-FR"],
            env={**os.environ, "LANGUAGE": "fr"},
        )
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Any, request: pytest.FixtureRequest) -> Iterator[CheckedBrowser]:
    """Chromium for one test, which fails if a page broke the Content-Security-Policy;
    its pages are signed in as an admin unless told otherwise (:meth:`CheckedBrowser.new_page`)."""
    CSP_VIOLATIONS.clear()
    yield CheckedBrowser(chromium, request)
    assert CSP_VIOLATIONS == [], "Content-Security-Policy violations"


@pytest.fixture
def artifacts() -> Path:
    """Directory for screenshots and other files worth keeping after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real SMTP server on a free loopback port (started): the notification tests' one
    (:class:`tests.api.test_notifications.SmtpTestServer`), stopped after the test."""
    from tests.api.test_notifications import Inbox, SmtpTestServer

    server = SmtpTestServer(port=free_port(), inbox=Inbox())
    server.start()
    yield server
    server.stop()
