"""Structured logs: a request id on every request and every log record, JSON lines.

* :class:`RequestContext`, an ASGI middleware installed by the app, gives each request an
  id: the client's ``X-Request-ID`` when it is a safe short token (:data:`SAFE_ID`), else
  a new one. The id is echoed in the response's ``X-Request-ID`` header, kept in
  ``scope["psq.request_id"]`` (the 500 handler of :mod:`api.errors` quotes it) and in the
  :data:`request_context` variable while the request runs, and one access line is logged
  per request on the ``psq.access`` logger (method, path, status, duration).
* :class:`RequestContextFilter` adds ``request_id``, ``method`` and ``path`` (``-`` outside
  a request) to a record; :func:`configure_logging` installs it as a record factory, so
  that every record carries them, whichever handler (a test's ``caplog`` among them)
  receives it.
* :class:`JsonFormatter` writes one JSON object per line (``PSQ_LOG_FORMAT=json``):
  ``time``, ``level``, ``logger``, ``message``, ``request_id``, ``method``, ``path``,
  ``status``, ``duration_ms``, ``gc_ms`` (and ``exception`` when there is one).
* :data:`GC_PAUSES` adds up the time Python's garbage collector stopped every thread
  (``gc.callbacks``, installed by :func:`configure_logging`): the access line of a
  request says how much of its duration was collector (``gc_ms``) and whether a pass over
  the oldest generation ran meanwhile (``gc_full``), which is how the ~600 ms OGC pages
  of issue 21 were found.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A client's ``X-Request-ID`` is kept when it is this kind of token, else replaced.
SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = "X-Request-ID"
SCOPE_KEY = "psq.request_id"
access_log = logging.getLogger("psq.access")


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    method: str
    path: str


#: The request being served by this task or thread (None outside a request).
request_context: ContextVar[RequestInfo | None] = ContextVar("request_context", default=None)


def current_request_id() -> str | None:
    info = request_context.get()
    return info.request_id if info is not None else None


def request_id_for(header: str | None) -> str:
    """The client's id when it is a safe short token, else a new random one.

    >>> request_id_for("abc-123"), len(request_id_for("<script>")), len(request_id_for(None))
    ('abc-123', 32, 32)
    """
    if header is not None and SAFE_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``method`` and ``path`` of the current request to a record
    (``-`` outside a request), unless the record has its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = request_context.get()
        for name in ("request_id", "method", "path"):
            if not hasattr(record, name):
                setattr(record, name, getattr(info, name) if info is not None else "-")
        return True


_FILTER = RequestContextFilter()


def _install_record_factory() -> None:
    """Every record created from now on goes through :class:`RequestContextFilter`."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "psq_request_context", False):
        return

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    make_record.psq_request_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "method": getattr(record, "method", "-"),
            "path": getattr(record, "path", "-"),
            "status": getattr(record, "status", None),
            "duration_ms": getattr(record, "duration_ms", None),
            "gc_ms": getattr(record, "gc_ms", None),
            "gc_full": getattr(record, "gc_full", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class GcPauses:
    """The collector's passes since the process started: their total time (ms) and the
    number of passes over the oldest generation (the long ones: they walk every object
    the process keeps). Fed by ``gc.callbacks``; a pass holds the GIL, so every thread of
    the process waits for it: a request's ``gc_ms`` is time it was stopped."""

    def __init__(self) -> None:
        self.total_ms = 0.0
        self.full = 0
        self.longest_ms = 0.0
        self._started = 0.0

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = (time.perf_counter() - self._started) * 1000
        self.total_ms += took
        self.longest_ms = max(self.longest_ms, took)
        if info.get("generation") == 2:
            self.full += 1

    def reading(self) -> tuple[float, int]:
        return self.total_ms, self.full


#: The process's one account of the collector's pauses (see :class:`GcPauses`).
GC_PAUSES = GcPauses()
_gc_lock = threading.Lock()


def watch_gc_pauses() -> None:
    """Count the collector's pauses in :data:`GC_PAUSES` (once per process)."""
    with _gc_lock:
        if GC_PAUSES.callback not in gc.callbacks:
            gc.callbacks.append(GC_PAUSES.callback)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Records carry the request context; the root logger writes them to stderr as text
    or JSON lines. Idempotent: the app's own handler is replaced, others are kept."""
    _install_record_factory()
    watch_gc_pauses()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "psq_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.psq_handler = True  # type: ignore[attr-defined]
    handler.addFilter(_FILTER)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log would repeat psq.access without the request id.
    logging.getLogger("uvicorn.access").disabled = True


class RequestContext:
    """The request id and the access log line of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(Headers(scope=scope).get(HEADER))
        scope[SCOPE_KEY] = request_id
        info = RequestInfo(request_id, scope["method"], scope["path"])
        token = request_context.set(info)
        start = time.perf_counter()
        gc_before, full_before = GC_PAUSES.reading()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            duration = round((time.perf_counter() - start) * 1000, 1)
            gc_after, full_after = GC_PAUSES.reading()
            gc_ms = round(gc_after - gc_before, 1)
            access_log.info(
                "%s %s %s %.1f ms (gc %.1f ms)",
                info.method,
                info.path,
                status,
                duration,
                gc_ms,
                extra={
                    "status": status,
                    "duration_ms": duration,
                    "gc_ms": gc_ms,
                    "gc_full": full_after - full_before,
                },
            )
            request_context.reset(token)
