"""Liveness and readiness, the request id and the structured logs (issue 22)."""

from __future__ import annotations

import gc
import json
import logging
import weakref
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import access
from api.cluster import free_port
from api.config import Settings
from api.db import head_revision
from api.logs import JsonFormatter, configure_logging
from psq.app import create_app
from tests.route_log import record_routes


def test_live_and_ready(client: TestClient) -> None:
    assert client.get("/api/health/live").json() == {"status": "ok"}
    ready = client.get("/api/health/ready").json()
    assert ready["status"] == "ok" and ready["database"] == "ok"
    assert ready["postgis"].startswith("3.") and ready["migration"] == head_revision()
    assert client.get("/api/health").json() == ready


def test_a_database_down_is_not_ready_but_live(settings: Settings) -> None:
    down = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"}
    )
    with TestClient(record_routes(create_app(down))) as client:
        assert client.get("/api/health/live").status_code == 200
        for path in ("/api/health/ready", "/api/health"):
            response = client.get(path)
            assert response.status_code == 503
            body = response.json()
            assert body["type"] == "DatabaseUnavailable"
            assert body["detail"].startswith("base de données injoignable")


@pytest.fixture
def behind(engine: Engine) -> Iterator[None]:
    """The schema one migration behind (the version row rewritten, then put back)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    yield
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})


@pytest.mark.usefixtures("behind")
def test_a_schema_behind_is_not_ready(client: TestClient) -> None:
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == (
        f"base de données : schéma à la migration 0014, attendu {head_revision()} ; "
        "lancez « psq db migrate »"
    )
    assert (body["type"], body["code"]) == ("UnavailableError", "database_not_migrated")
    assert client.get("/api/health/live").status_code == 200


# -- the request id and the logs ----------------------------------------------------------
def test_the_request_id_is_echoed_or_made(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="psq.access"):
        given = client.get("/api/health/live", headers={"X-Request-ID": "abc-123.X"})
        unsafe = client.get("/api/health/live", headers={"X-Request-ID": "a b<script>"})
        none = client.get("/api/health/live")
    assert given.headers["x-request-id"] == "abc-123.X"
    made = {unsafe.headers["x-request-id"], none.headers["x-request-id"]}
    assert len(made) == 2 and all(len(m) == 32 and m.isalnum() for m in made)
    access_lines = [r for r in caplog.records if r.name == "psq.access"]
    assert [r.request_id for r in access_lines] == [  # type: ignore[attr-defined]
        "abc-123.X",
        unsafe.headers["x-request-id"],
        none.headers["x-request-id"],
    ]
    first = access_lines[0]
    assert (first.method, first.path, first.status) == ("GET", "/api/health/live", 200)  # type: ignore[attr-defined]
    assert first.getMessage().startswith("GET /api/health/live 200 ")
    assert first.duration_ms >= 0  # type: ignore[attr-defined]


def test_a_500_quotes_the_request_id_and_logs_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = record_routes(create_app(settings))
    boom = APIRouter()

    @boom.get("/api/boom", dependencies=[access.PUBLIC])
    def explode() -> None:
        logging.getLogger("psq.test").warning("about to fail")
        raise RuntimeError("secret internals /srv/psq")

    app.include_router(boom)
    with (
        caplog.at_level(logging.INFO),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = client.get("/api/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == "req-500" and body["type"] == "InternalError"
    assert "référence req-500" in body["detail"] and "secret" not in response.text
    assert response.headers["x-request-id"] == "req-500"
    ours = [r for r in caplog.records if getattr(r, "request_id", None) == "req-500"]
    assert {r.name for r in ours} >= {"psq.test", "api.errors", "psq.access"}
    access_line = next(r for r in ours if r.name == "psq.access")
    assert access_line.status == 500  # type: ignore[attr-defined]
    error = next(r for r in ours if r.name == "api.errors")
    assert error.exc_info is not None and error.path == "/api/boom"  # type: ignore[attr-defined]


def test_a_requests_line_says_the_collectors_pauses_during_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A full pass of the garbage collector stops every thread: the access line of a
    request it stopped says so (``gc_full``) and how long (``gc_ms``), within its own
    duration: how the rare ~600 ms OGC pages of issue 21 were told apart."""
    app = record_routes(create_app(settings))
    collecting = APIRouter()

    @collecting.get("/api/collect", dependencies=[access.PUBLIC])
    def collect() -> None:
        gc.collect()  # one full pass, as the collector's own would run

    app.include_router(collecting)
    with caplog.at_level(logging.INFO, logger="psq.access"), TestClient(app) as client:
        assert client.get("/api/collect", headers={"X-Request-ID": "gc-1"}).status_code == 200
    line = next(r for r in caplog.records if getattr(r, "request_id", None) == "gc-1")
    assert line.gc_full >= 1  # type: ignore[attr-defined]
    assert 0 < line.gc_ms <= line.duration_ms  # type: ignore[attr-defined]
    assert f"(gc {line.gc_ms:.1f} ms)" in line.getMessage()  # type: ignore[attr-defined]


def test_the_served_app_freezes_its_start_up_heap(settings: Settings) -> None:
    """``psq serve``'s app (``settle``) collects the garbage of its start-up, then moves
    what is left out of the collector's passes (``gc.freeze``): a full pass no longer
    walks the ~300 000 objects of the imported modules."""

    class Node:
        me: object

    kept, garbage = Node(), Node()
    kept.me, garbage.me = kept, garbage  # two cycles: one kept, one dropped
    gone = weakref.ref(garbage)
    del garbage
    gc.disable()  # no pass of its own before the app's
    try:
        with TestClient(record_routes(create_app(settings, settle=True))) as client:
            assert client.get("/api/health/live").status_code == 200
            assert gone() is None  # collected, not frozen
            assert gc.get_freeze_count() > 100_000  # the modules, the app
            assert not any(o is kept for o in gc.get_objects())  # out of every generation
    finally:
        gc.unfreeze()
        gc.enable()


def test_json_lines(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="psq.access"):
        client.get("/api/health/live", headers={"X-Request-ID": "json-1"})
    record = next(r for r in caplog.records if r.name == "psq.access")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {
        "time", "level", "logger", "message", "request_id", "method", "path", "status",
        "duration_ms", "gc_ms", "gc_full",
    }  # fmt: skip
    assert entry["level"] == "INFO" and entry["logger"] == "psq.access"
    assert (entry["request_id"], entry["method"], entry["path"], entry["status"]) == (
        "json-1",
        "GET",
        "/api/health/live",
        200,
    )
    assert entry["time"].endswith("+00:00")
    outside = logging.getLogger("psq.test").makeRecord("psq.test", 20, "f", 1, "hors", (), None)
    assert json.loads(JsonFormatter().format(outside))["request_id"] == "-"


def test_psq_log_format_json_installs_the_json_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSQ_LOG_FORMAT", "json")
    settings = Settings()
    assert settings.log_format == "json"
    configure_logging(settings.log_format, settings.log_level)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "psq_handler", False)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
    configure_logging("text")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "psq_handler", False)]
    assert len(ours) == 1 and not isinstance(ours[0].formatter, JsonFormatter)
