"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real tracking server.

Tests switch its `fault` between requests to make the server look down, overloaded,
rate limited, slow, cut off or strict about the Host header, and read `requests` to
count what a client sent. It runs in its own threads, so an asyncio client in the test
talks to it like to any server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

# A Host name that cannot resolve anywhere (RFC 2606); the proxy sends it to the real
# server to trigger its own "Invalid Host header" check, not to reach another host.
FOREIGN_HOST = "monitor.invalid"
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "content-encoding",
}


class Fault(StrEnum):
    """What the proxy does to the next requests."""

    NONE = "none"
    REFUSED = "refused"  # the listening socket is closed: connection refused
    UNAVAILABLE = "503"  # every request gets 503 Service Unavailable
    RATE_LIMITED = "429"  # every request gets 429 with Retry-After
    SLOW = "slow"  # forward after sleeping `delay_s`
    TRUNCATED = "truncated"  # forward, but send only the first half of the JSON body
    CUT_OFF = "cut-off"  # announce the full length, send half, close the connection
    HOST_REJECTED = "host"  # forward with a foreign Host header, so the server returns 403
    UNAUTHENTICATED = "401"  # every request gets 401, as behind an auth proxy


@dataclass
class RecordedRequest:
    method: str
    path: str
    fault: Fault
    headers: dict[str, str]


@dataclass
class FaultProxy:
    """Forwards to `upstream` unless a `fault` is set, and records every request."""

    upstream: str
    fault: Fault = Fault.NONE
    delay_s: float = 10.0
    retry_after: str = "1"
    # When set, only this many more requests get the fault; then the proxy forwards again.
    remaining: int | None = None
    # When set, only requests whose path contains this string get the fault.
    only_path: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _connections: set[socket.socket] = field(default_factory=set)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on 127.0.0.1 (a free port the first time, the same port afterwards)."""
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listening socket and open connections, as a stopped server would."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)

    def set_fault(self, fault: Fault) -> None:
        """Switch the fault; REFUSED closes the socket and leaving it reopens it."""
        if fault is Fault.REFUSED and self._server is not None:
            self.stop()
        elif fault is not Fault.REFUSED and self._server is None:
            self.start()
        self.fault = fault

    def reset_count(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, path_part: str = "") -> int:
        with self._lock:
            return sum(1 for item in self.requests if path_part in item.path)

    def record(self, method: str, path: str, headers: dict[str, str]) -> Fault:
        with self._lock:
            fault = self.fault
            if self.only_path is not None and self.only_path not in path:
                fault = Fault.NONE
            elif self.remaining is not None:
                if self.remaining <= 0:
                    fault = self.fault = Fault.NONE
                    self.remaining = None
                else:
                    self.remaining -= 1
            self.requests.append(RecordedRequest(method, path, fault, headers))
            return fault


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with proxy._lock:
                proxy._connections.add(self.connection)

        def finish(self) -> None:
            with proxy._lock:
                proxy._connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy.record(self.command, self.path, dict(self.headers.items()))
            if fault is Fault.UNAVAILABLE:
                self._reply(
                    503, b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "overloaded"}'
                )
                return
            if fault is Fault.UNAUTHENTICATED:
                self._reply(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="mlflow"'})
                return
            if fault is Fault.RATE_LIMITED:
                self._reply(
                    429,
                    b'{"error_code": "REQUEST_LIMIT_EXCEEDED"}',
                    {"Retry-After": proxy.retry_after},
                )
                return
            if fault is Fault.SLOW:
                time.sleep(proxy.delay_s)
            headers = {
                key: value for key, value in self.headers.items() if key.lower() not in _HOP_HEADERS
            }
            if fault is Fault.HOST_REJECTED:
                headers["Host"] = FOREIGN_HOST
            try:
                upstream = httpx.request(
                    self.command,
                    proxy.upstream + self.path,
                    headers=headers,
                    content=body,
                    timeout=60,
                )
            except httpx.HTTPError as exc:
                self._reply(502, str(exc).encode())
                return
            content = upstream.content
            extra = {"Content-Type": upstream.headers.get("content-type", "application/json")}
            if fault is Fault.TRUNCATED:
                self._reply(upstream.status_code, content[: len(content) // 2], extra)
            elif fault is Fault.CUT_OFF:
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", extra["Content-Type"])
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self._reply(upstream.status_code, content, extra)

        def _reply(
            self, status: int, content: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for key, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    return Handler
