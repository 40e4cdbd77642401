"""A stub MLflow REST server on 127.0.0.1 that returns canned JSON for each API path.

Tests use it to send bodies a real server never would (wrong types, missing fields)
and check that the REST source reports them as malformed responses.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class StubServer:
    """Serves GET and POST on `/api/2.0/mlflow/<endpoint>` with `responses[endpoint]`, else `{}`."""

    responses: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def uri(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                path = urlsplit(self.path).path
                stub.paths.append(path)
                endpoint = path.removeprefix("/api/2.0/mlflow/")
                body = json.dumps(stub.responses.get(endpoint, {})).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
