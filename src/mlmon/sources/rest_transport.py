"""HTTP transport for the MLflow REST API: auth, TLS, timeouts, retries, error classes.

`MlflowClient` waits up to 120 s per try with 7 retries, so against a dead server a
monitor built on it shows nothing for minutes. This transport uses short timeouts, a few
retries with exponential backoff (honouring `Retry-After`), and a cap on concurrent
requests, and turns every failure into a `SourceError` whose title names the server and
the request and whose fix names the next step. Credentials come from MLflow's own
environment variables and are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import ssl
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from mlmon.config import Settings
from mlmon.errors import ConfigError, SourceError, SourceErrorKind

log = logging.getLogger(__name__)

# Backoff before retry n (0-based) is BACKOFF_BASE_S * 2**n, plus up to 25 % jitter.
BACKOFF_BASE_S = 0.25
# A Retry-After longer than this is not waited out inside one poll: the error goes up,
# and the poller schedules its next cycle after the server's delay instead.
MAX_RETRY_AFTER_S = 5.0
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_TRUE_VALUES = {"1", "true", "yes", "on"}


class RateLimitedError(SourceError):
    """The server returned 429, or 503 with a `Retry-After` longer than one poll may wait."""

    def __init__(self, title: str, fix: str, retry_after: float | None) -> None:
        super().__init__(SourceErrorKind.RATE_LIMITED, title, fix)
        self.retry_after = retry_after


def auth_headers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the Authorization header from MLflow's variables; Basic wins over Bearer."""
    env = os.environ if environ is None else environ
    username = env.get("MLFLOW_TRACKING_USERNAME")
    password = env.get("MLFLOW_TRACKING_PASSWORD")
    token = env.get("MLFLOW_TRACKING_TOKEN")
    if username and password:
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}


def tls_verify(environ: Mapping[str, str] | None = None) -> bool | ssl.SSLContext:
    """Return httpx's `verify` argument from MLflow's TLS variables.

    `MLFLOW_TRACKING_INSECURE_TLS` turns certificate checks off,
    `MLFLOW_TRACKING_SERVER_CERT_PATH` names a CA bundle, and
    `MLFLOW_TRACKING_CLIENT_CERT_PATH` a client certificate (PEM with its key) for mutual TLS.
    """
    env = os.environ if environ is None else environ
    insecure = env.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip().lower() in _TRUE_VALUES
    server_cert = env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None
    client_cert = env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None
    if insecure and server_cert:
        raise ConfigError(
            "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set.",
            "Unset one: either skip certificate checks or verify against the given CA bundle.",
        )
    for name, path in (
        ("MLFLOW_TRACKING_SERVER_CERT_PATH", server_cert),
        ("MLFLOW_TRACKING_CLIENT_CERT_PATH", client_cert),
    ):
        if path and not Path(path).is_file():
            raise ConfigError(f"{name} points at {path!r}, which is not a file.", f"Fix or unset {name}.")
    if not (insecure or server_cert or client_cert):
        return True
    try:
        context = ssl.create_default_context(cafile=server_cert)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if client_cert:
            context.load_cert_chain(client_cert)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"Cannot load the TLS certificates named by MLFLOW_TRACKING_*_CERT_PATH: {exc}.",
            "Point the variables at PEM files (the client file must contain its private key).",
        ) from exc
    return context


def redact_uri(uri: str) -> str:
    """Return `uri` with the user and password of its authority replaced by `***`."""
    scheme, separator, rest = uri.partition("://")
    authority, slash, path = rest.partition("/")
    if not separator or "@" not in authority:
        return uri
    return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{path}"


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a `Retry-After` header (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


class RestTransport:
    """An httpx.AsyncClient bound to one tracking server, with retries and classification."""

    def __init__(self, uri: str, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        base_url = uri.rstrip("/")
        # Titles, logs and the header show the URI without any user:password part.
        self.uri = redact_uri(base_url)
        self.settings = settings
        self.request_count = 0
        self._semaphore = asyncio.Semaphore(settings.max_concurrency)
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.read_timeout,
        )
        limits = httpx.Limits(
            max_connections=settings.max_concurrency,
            max_keepalive_connections=settings.max_concurrency,
        )
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=limits,
            headers={"User-Agent": "mlmon", **auth_headers()},
            verify=tls_verify(),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def get_json(self, path: str, params: Any = None) -> dict[str, Any]:
        """GET an API path and return its JSON object."""
        response = await self.request("GET", path, params=params)
        return self._json(response, path)

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to an API path and return its JSON object."""
        response = await self.request("POST", path, json=body)
        return self._json(response, path)

    async def get_text(self, path: str) -> str:
        """GET a path and return its body as text."""
        response = await self.request("GET", path)
        return response.text

    async def download(self, path: str, params: dict[str, str], destination: Path) -> Path:
        """Stream a GET response body into `destination`, replacing it only when complete."""
        partial = destination.with_name(destination.name + ".part")
        destination.parent.mkdir(parents=True, exist_ok=True)

        async def stream() -> Path:
            async with self._client.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status_error(response, path)
                with partial.open("wb") as handle:
                    async for chunk in response.aiter_bytes():
                        handle.write(chunk)
            partial.replace(destination)
            return destination

        try:
            return await self._with_retries("GET", path, stream)
        finally:
            partial.unlink(missing_ok=True)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request with retries; return a 2xx response or raise `SourceError`."""

        async def send() -> httpx.Response:
            response = await self._client.request(method, path, **kwargs)
            if response.status_code >= 400:
                raise self._status_error(response, path)
            return response

        return await self._with_retries(method, path, send)

    async def _with_retries(self, method: str, path: str, attempt_once: Any) -> Any:
        attempt = 0
        while True:
            try:
                async with self._semaphore:
                    self.request_count += 1
                    return await attempt_once()
            except _Retryable as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise exc.error from None
                log.info(
                    "%s %s%s failed (%s); retry %d in %.2f s",
                    method,
                    self.uri,
                    path,
                    exc.error.kind,
                    attempt + 1,
                    delay,
                )
                attempt += 1
                await asyncio.sleep(delay)
            except httpx.ConnectTimeout as exc:
                raise self._transport_error(SourceErrorKind.UNREACHABLE, path, exc) from None
            except httpx.TimeoutException as exc:
                raise self._transport_error(SourceErrorKind.TIMED_OUT, path, exc) from None
            except (httpx.ConnectError, httpx.NetworkError) as exc:
                retryable = _Retryable(self._transport_error(SourceErrorKind.UNREACHABLE, path, exc))
                delay = self._retry_delay(retryable, attempt)
                if delay is None:
                    raise retryable.error from None
                attempt += 1
                await asyncio.sleep(delay)
            except (httpx.RemoteProtocolError, httpx.DecodingError) as exc:
                raise self._transport_error(SourceErrorKind.MALFORMED, path, exc) from None
            except httpx.HTTPError as exc:
                raise self._transport_error(SourceErrorKind.UNREACHABLE, path, exc) from None

    def _retry_delay(self, exc: _Retryable, attempt: int) -> float | None:
        """Return seconds to wait before the next try, or None when no retry is left."""
        if attempt >= self.settings.max_retries:
            return None
        if exc.retry_after is not None:
            if exc.retry_after > MAX_RETRY_AFTER_S:
                return None
            return exc.retry_after
        return BACKOFF_BASE_S * 2**attempt * (1 + 0.25 * random.random())

    def _status_error(self, response: httpx.Response, path: str) -> Exception:
        """Classify an HTTP error status; retryable ones come back wrapped in `_Retryable`."""
        status = response.status_code
        detail = _error_detail(response)
        what = f"{response.request.method} {self.uri}{path}"
        if status == 401:
            return SourceError(
                SourceErrorKind.UNAUTHENTICATED,
                f"{what} was rejected: 401 unauthenticated.",
                "Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.",
            )
        if status == 403 and "host header" in detail.lower():
            return SourceError(
                SourceErrorKind.HOST_REJECTED,
                f"{what} was rejected: the server does not accept the Host header "
                f"{response.request.headers.get('host', '')!r}.",
                "Start the server with --allowed-hosts listing the host name you connect with, "
                "or connect through localhost.",
            )
        if status == 403:
            return SourceError(
                SourceErrorKind.FORBIDDEN,
                f"{what} was rejected: 403 forbidden ({detail}).",
                "Ask the server's administrator for read permission on the experiments and models.",
            )
        if status == 404:
            return SourceError(
                SourceErrorKind.NOT_FOUND,
                f"{what} returned 404 not found ({detail}).",
                "Check the tracking URI points at an MLflow server (version 2.9 or later) and the item still exists.",
            )
        if status in _RETRY_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if status == 429 or (retry_after is not None and retry_after > MAX_RETRY_AFTER_S):
                error: SourceError = RateLimitedError(
                    f"{what} was rate limited: {status}"
                    + (f", retry after {retry_after:.0f} s." if retry_after is not None else "."),
                    "mlmon waits and retries by itself; raise --refresh to send fewer requests.",
                    retry_after,
                )
            else:
                error = SourceError(
                    SourceErrorKind.SERVER_ERROR,
                    f"{what} failed with {status} ({detail}).",
                    "The server or a proxy in front of it is overloaded or restarting; mlmon retries by itself.",
                )
            return _Retryable(error, retry_after)
        if status >= 500:
            return SourceError(
                SourceErrorKind.SERVER_ERROR,
                f"{what} failed with {status} ({detail}).",
                "Check the tracking server's log for the cause.",
            )
        return SourceError(
            SourceErrorKind.BAD_REQUEST,
            f"{what} was rejected with {status} ({detail}).",
            "Check the filter expression and the server's MLflow version (mlmon needs 2.9 or later).",
        )

    def _transport_error(self, kind: SourceErrorKind, path: str, exc: Exception) -> SourceError:
        where = f"{self.uri}{path}"
        reason = type(exc).__name__
        if kind is SourceErrorKind.UNREACHABLE:
            return SourceError(
                kind,
                f"Cannot connect to {where} ({reason}).",
                "Check that the server is running and the tracking URI's host and port are right.",
            )
        if kind is SourceErrorKind.TIMED_OUT:
            return SourceError(
                kind,
                f"{where} did not respond within {self.settings.read_timeout:g} s.",
                "The server is overloaded or a query is too large; raise read_timeout in the config file.",
            )
        return SourceError(
            kind,
            f"{where} sent an incomplete response ({reason}).",
            "A proxy or the server cut the response short; if it repeats, check the server's log.",
        )

    def _json(self, response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise SourceError(
                SourceErrorKind.MALFORMED,
                f"{self.uri}{path} returned a body that is not a JSON object ({len(response.content)} bytes).",
                "Check the tracking URI points at an MLflow server and not at a proxy's error page.",
            )
        return data


class _Retryable(Exception):
    """A failure worth retrying, carrying the error to raise when retries run out."""

    def __init__(self, error: SourceError, retry_after: float | None = None) -> None:
        super().__init__(error.title)
        self.error = error
        self.retry_after = retry_after


def _error_detail(response: httpx.Response) -> str:
    """Return MLflow's error code and message from an error body, or the body's start."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and ("message" in body or "error_code" in body):
        code = body.get("error_code", "")
        message = str(body.get("message", ""))[:300]
        return f"{code}: {message}" if code else message
    text = response.text.strip().replace("\n", " ")
    return text[:200] or response.reason_phrase
