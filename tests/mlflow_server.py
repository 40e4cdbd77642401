"""Start and stop a real `mlflow server` on 127.0.0.1 for the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

# The server took 14-23 s to respond to /health on a 2-core machine, so allow for a slow one.
STARTUP_TIMEOUT_S = 120.0


@dataclass
class ServerHandle:
    """A running server: its URI, backend store, artifact folder and process."""

    uri: str
    backend_uri: str
    artifacts: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Kill the server's whole process group (uvicorn workers and job runner too)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, backend_uri: str | None = None) -> ServerHandle:
    """Start `mlflow server` with a sqlite store under `root` and wait until it responds."""
    root.mkdir(parents=True, exist_ok=True)
    backend_uri = backend_uri or f"sqlite:///{root / 'mlflow.db'}"
    artifacts = root / "artifacts"
    port = free_port()
    log_path = root / "server.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    # The server must not send usage telemetry anywhere: the tests stay on loopback.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_uri,
        "--artifacts-destination", str(artifacts),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    handle = ServerHandle(f"http://127.0.0.1:{port}", backend_uri, artifacts, process, log_path)
    try:
        _wait_ready(handle)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_ready(handle: ServerHandle) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            tail = handle.log_path.read_text()[-2000:]
            raise RuntimeError(f"mlflow server exited early; see {handle.log_path}:\n{tail}")
        try:
            health = httpx.get(f"{handle.uri}/health", timeout=2.0)
            version = httpx.get(f"{handle.uri}/version", timeout=2.0)
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        # Confirm that the server on this port is ours: /version returns MLflow's version.
        if health.status_code == 200 and version.status_code == 200 and version.text.strip()[:1].isdigit():
            return
        time.sleep(0.5)
    raise RuntimeError(
        f"mlflow server at {handle.uri} not ready after {STARTUP_TIMEOUT_S:.0f} s; see {handle.log_path}"
    )
