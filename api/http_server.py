"""What the HTTP server answers before the app sees a request (``psq serve``).

uvicorn's h11 protocol answers an unreadable request head itself, in English plain text
(« Invalid HTTP request received. »), and it gives a client no deadline to send its head:
a client sending it a byte every few seconds (slowloris) held a connection, and its
memory, forever. :class:`BoundedH11Protocol` is that protocol with:

* a deadline for each request's head (:attr:`ServerLimits.header_timeout_s`, from the
  connection's opening or the first byte of the next request on a kept-alive
  connection): past it, a 408 and the connection closed;
* the largest head taken (:attr:`ServerLimits.max_header_bytes`, h11's own bound): past
  it, a 414 when the request line (the URL) has not ended, else a 431;
* these answers and the 400 of a head h11 cannot read in the API's error shape
  (:class:`api.schemas.common.ErrorPublic`: a French ``detail``, ``type``, ``code``),
  with ``Connection: close``.

``psq serve`` passes it to uvicorn with the settings' limits (:func:`protocol_for`);
uvicorn's idle timeout between two requests (``timeout_keep_alive``) stays its own.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from geo.messages import render

log = logging.getLogger(__name__)

#: h11's own bound on a request's head, uvicorn's default.
DEFAULT_MAX_HEADER_BYTES = 16 * 1024
#: The blank line that ends a request's head (h11 takes bare line feeds too).
_HEAD_END = re.compile(rb"\n\r?\n")


@dataclass(frozen=True)
class ServerLimits:
    """How long a client may take to send a request's head, and how large it may be."""

    header_timeout_s: float = 10.0
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES


#: status → (reason phrase, error type, catalogue code)
_REFUSALS: dict[int, tuple[bytes, str, str]] = {
    400: (b"Bad Request", "InvalidHttpRequest", "http_request_invalid"),
    408: (b"Request Timeout", "RequestHeaderTimeout", "http_header_timeout"),
    414: (b"URI Too Long", "RequestUrlTooLong", "http_url_too_long"),
    431: (b"Request Header Fields Too Large", "RequestHeaderTooLarge", "http_header_too_large"),
}


def refusal(status: int, **values: object) -> bytes:
    """The whole HTTP answer (head and JSON body) of a request refused by the server.

    >>> answer = refusal(414, limit=16384)
    >>> answer.split(b"\\r\\n")[0]
    b'HTTP/1.1 414 URI Too Long'
    >>> json.loads(answer.split(b"\\r\\n\\r\\n", 1)[1])["code"]
    'http_url_too_long'
    """
    reason, kind, code = _REFUSALS[status]
    body = json.dumps(
        {"detail": render(code, **values), "type": kind, "code": code}, ensure_ascii=False
    ).encode()
    head = (
        f"HTTP/1.1 {status} ".encode()
        + reason
        + b"\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"connection: close\r\n\r\n"
    )
    return head + body


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline and French JSON answers for the request
    heads it refuses (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ServerLimits = ServerLimits(),
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_bytes = 0  # of the request head being received
        self.line_length: int | None = None  # its request line's, once it has ended
        self.head_tail = b""  # its last bytes (its end may come split)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is not h11.IDLE:  # a body, or a request pipelined
            super().data_received(data)
            return
        # A request's head, measured here: h11 bounds only a head still incomplete
        # (one sent in a single packet of any size passed).
        self._await_head()
        chunk = self.head_tail + data
        ended = _HEAD_END.search(chunk)
        head = len(data) if ended is None else max(0, ended.end() - len(self.head_tail))
        if self.line_length is None and (newline := data.find(b"\n", 0, head)) >= 0:
            self.line_length = self.head_bytes + newline
        self.head_bytes += head
        limit = self.limits.max_header_bytes
        if self.head_bytes > limit:
            line = self.line_length if self.line_length is not None else self.head_bytes
            self._refuse(414 if line > limit else 431, limit=limit)
            return
        self.head_tail = chunk[-3:]
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_received()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # a pipelined request's head already read has started its own cycle
        if self.conn.their_state is not h11.IDLE:
            self._head_received()

    def _await_head(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(
                self.limits.header_timeout_s, self._head_timed_out
            )

    def _head_received(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        self.head_bytes = 0
        self.line_length = None
        self.head_tail = b""

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.head_bytes == 0:  # a connection never used (a browser's preconnection)
            self.transport.close()
            return
        log.warning(
            "request head not received within %.0f s: connection closed",
            self.limits.header_timeout_s,
        )
        self._refuse(408, seconds=self.limits.header_timeout_s)

    def send_400_response(self, msg: str) -> None:  # noqa: ARG002  (uvicorn's English text)
        self._refuse(400)

    def _refuse(self, status: int, **values: object) -> None:
        self._head_received()
        self.transport.write(refusal(status, **values))
        self.transport.close()


def protocol_for(limits: ServerLimits) -> type[asyncio.Protocol]:
    """The protocol class uvicorn is given (``http=``): :class:`BoundedH11Protocol` with
    these limits (a ``partial``, which uvicorn calls as a class and which its worker
    processes receive pickled)."""
    return cast(type[asyncio.Protocol], functools.partial(BoundedH11Protocol, limits=limits))
