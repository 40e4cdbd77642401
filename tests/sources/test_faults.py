"""The REST source and the poller against a real server behind a fault-injecting proxy.

Each test switches the proxy into one failure and checks what the user would see: the
connection state, the error's kind, title and fix, how long it took, and that the last
good data stays. Time limits are generous multiples of the expected delays, because
the development machine has two cores shared with other test runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from mlmon.config import Settings
from mlmon.errors import ConfigError, SourceError, SourceErrorKind
from mlmon.poller import RECOVERY_FIRST_DELAY_S, Poller
from mlmon.snapshot import ConnectionStatus, ViewRequest
from mlmon.sources.mlflow_rest import RestSource
from mlmon.sources.rest_transport import (
    RateLimitedError,
    auth_headers,
    redact_uri,
    retry_after_seconds,
    tls_verify,
)
from tests.faultproxy import Fault, FaultProxy

# The header must show "unreachable" within 5 s of the first failure (default settings).
UNREACHABLE_LIMIT_S = 5.0


@pytest.fixture
def proxy(mlflow_server) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=mlflow_server.uri).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _settings(proxy: FaultProxy, **overrides: object) -> Settings:
    return Settings(tracking_uri=proxy.uri, refresh_seconds=30.0, **overrides)


@pytest_asyncio.fixture(loop_scope="function")
async def source(proxy) -> AsyncIterator[RestSource]:
    source = RestSource(proxy.uri, _settings(proxy))
    try:
        yield source
    finally:
        await source.aclose()


def _view(mlflow_server) -> ViewRequest:
    return ViewRequest(model_name=mlflow_server.seeded.model_name, version="1", metric_key="loss")


async def test_refused_connection_shows_unreachable_and_keeps_stale_data(proxy, source, mlflow_server):
    poller = Poller(source, source.settings)
    good = await poller.poll(_view(mlflow_server))
    assert good.connection.status is ConnectionStatus.OK
    assert good.series and good.models

    proxy.set_fault(Fault.REFUSED)
    started = time.monotonic()
    stale = await poller.poll(_view(mlflow_server))
    elapsed = time.monotonic() - started
    assert elapsed < UNREACHABLE_LIMIT_S
    assert stale.connection.status is ConnectionStatus.UNREACHABLE
    assert stale.connection.since is not None
    assert stale.connection.last_success == good.connection.last_success
    assert proxy.uri in stale.connection.error_title
    assert stale.models == good.models
    assert stale.series == good.series
    first_since = stale.connection.since
    assert poller.next_delay() == RECOVERY_FIRST_DELAY_S

    again = await poller.poll(_view(mlflow_server))
    assert again.connection.since == first_since
    assert again.connection.failures == 2
    assert poller.next_delay() == 2 * RECOVERY_FIRST_DELAY_S

    proxy.set_fault(Fault.NONE)
    recovered = await poller.poll(_view(mlflow_server))
    assert recovered.connection.status is ConnectionStatus.OK
    assert recovered.connection.failures == 0
    assert poller.next_delay() == 30.0


async def test_503_storm_fails_after_bounded_retries(proxy, source):
    proxy.set_fault(Fault.UNAVAILABLE)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        await source.search_experiments()
    assert time.monotonic() - started < UNREACHABLE_LIMIT_S
    assert caught.value.kind is SourceErrorKind.SERVER_ERROR
    assert "503" in caught.value.title
    assert proxy.uri in caught.value.title
    assert proxy.count() == 1 + source.settings.max_retries


async def test_short_503_burst_is_retried_away(proxy, source, mlflow_server):
    proxy.set_fault(Fault.UNAVAILABLE)
    proxy.remaining = 2
    experiments = await source.search_experiments()
    assert "seed-training" in {item.name for item in experiments}
    assert proxy.count() == 3


async def test_429_waits_for_retry_after_then_succeeds(proxy, source):
    proxy.retry_after = "1"
    proxy.set_fault(Fault.RATE_LIMITED)
    proxy.remaining = 1
    started = time.monotonic()
    version = await source.server_version()
    elapsed = time.monotonic() - started
    assert version[0].isdigit()
    assert 0.9 <= elapsed < UNREACHABLE_LIMIT_S
    assert proxy.count() == 2


async def test_long_retry_after_is_left_to_the_poller(proxy, source, mlflow_server):
    proxy.retry_after = "120"
    proxy.set_fault(Fault.RATE_LIMITED)
    poller = Poller(source, source.settings)
    started = time.monotonic()
    snapshot = await poller.poll(_view(mlflow_server))
    assert time.monotonic() - started < UNREACHABLE_LIMIT_S
    assert proxy.count() == 1
    assert snapshot.connection.status is ConnectionStatus.ERROR
    assert "rate limited" in snapshot.connection.error_title
    assert poller.next_delay() == 120.0


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 <= retry_after_seconds(later) <= 61


async def test_slow_responses_time_out_within_the_limit(proxy, mlflow_server):
    proxy.delay_s = 10.0
    proxy.set_fault(Fault.SLOW)
    source = RestSource(proxy.uri, _settings(proxy, read_timeout=2.0))
    try:
        poller = Poller(source, source.settings)
        started = time.monotonic()
        snapshot = await poller.poll(_view(mlflow_server))
        elapsed = time.monotonic() - started
    finally:
        await source.aclose()
    assert elapsed < UNREACHABLE_LIMIT_S
    assert snapshot.connection.status is ConnectionStatus.UNREACHABLE
    assert "did not respond within 2 s" in snapshot.connection.error_title
    assert "read_timeout" in snapshot.connection.error_fix
    # A timed-out read is not repeated: the server is already struggling.
    assert proxy.count() == 1


@pytest.mark.parametrize("fault", [Fault.TRUNCATED, Fault.CUT_OFF])
async def test_truncated_json_is_a_malformed_response(proxy, source, fault):
    proxy.set_fault(fault)
    with pytest.raises(SourceError) as caught:
        await source.search_registered_models()
    assert caught.value.kind is SourceErrorKind.MALFORMED
    assert proxy.uri in caught.value.title


async def test_poll_malformed_response_keeps_data(proxy, source, mlflow_server):
    poller = Poller(source, source.settings)
    good = await poller.poll(_view(mlflow_server))
    proxy.set_fault(Fault.TRUNCATED)
    bad = await poller.poll(_view(mlflow_server))
    assert bad.connection.status is ConnectionStatus.ERROR
    assert bad.models == good.models


async def test_rejected_host_header_names_allowed_hosts(proxy, source):
    proxy.set_fault(Fault.HOST_REJECTED)
    with pytest.raises(SourceError) as caught:
        await source.search_experiments()
    assert caught.value.kind is SourceErrorKind.HOST_REJECTED
    assert "--allowed-hosts" in caught.value.fix
    assert proxy.uri in caught.value.title


async def test_unauthenticated_names_the_auth_variables(proxy, source):
    proxy.set_fault(Fault.UNAUTHENTICATED)
    with pytest.raises(SourceError) as caught:
        await source.search_experiments()
    assert caught.value.kind is SourceErrorKind.UNAUTHENTICATED
    assert "MLFLOW_TRACKING_TOKEN" in caught.value.fix
    assert proxy.count() == 1


async def test_unknown_endpoint_is_not_found(source, proxy):
    with pytest.raises(SourceError) as caught:
        await source._http.get_json("/api/2.0/mlflow/no-such-endpoint")
    assert caught.value.kind is SourceErrorKind.NOT_FOUND
    assert proxy.uri in caught.value.title


async def test_non_json_body_is_malformed(source, proxy):
    with pytest.raises(SourceError) as caught:
        await source._http.get_json("/version")
    assert caught.value.kind is SourceErrorKind.MALFORMED


async def test_token_is_sent_as_bearer_and_never_logged(proxy, monkeypatch, caplog):
    token = "tok-secret-1234567890"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    source = RestSource(proxy.uri, _settings(proxy))
    caplog.set_level(logging.DEBUG)
    try:
        await source.search_experiments()
        proxy.set_fault(Fault.UNAUTHENTICATED)
        with pytest.raises(SourceError) as caught:
            await source.search_experiments()
    finally:
        await source.aclose()
    assert proxy.requests[0].headers.get("Authorization") == f"Bearer {token}"
    assert token not in caplog.text
    assert token not in str(caught.value)


def test_basic_auth_wins_over_token():
    headers = auth_headers(
        {
            "MLFLOW_TRACKING_USERNAME": "ana",
            "MLFLOW_TRACKING_PASSWORD": "pw",
            "MLFLOW_TRACKING_TOKEN": "tok",
        }
    )
    # base64("ana:pw") computed by hand: "YW5hOnB3".
    assert headers == {"Authorization": "Basic YW5hOnB3"}
    assert auth_headers({"MLFLOW_TRACKING_USERNAME": "ana"}) == {}


def test_insecure_tls_and_server_cert_together_are_rejected(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    with pytest.raises(ConfigError) as caught:
        tls_verify(
            {
                "MLFLOW_TRACKING_INSECURE_TLS": "true",
                "MLFLOW_TRACKING_SERVER_CERT_PATH": str(bundle),
            }
        )
    assert "MLFLOW_TRACKING_INSECURE_TLS" in caught.value.title


def test_missing_cert_file_is_named(tmp_path):
    missing = tmp_path / "absent.pem"
    with pytest.raises(ConfigError) as caught:
        tls_verify({"MLFLOW_TRACKING_SERVER_CERT_PATH": str(missing)})
    assert str(missing) in caught.value.title


def test_insecure_tls_turns_verification_off():
    import ssl

    context = tls_verify({"MLFLOW_TRACKING_INSECURE_TLS": "true"})
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_NONE
    assert tls_verify({}) is True


async def test_concurrent_requests_are_capped(proxy, mlflow_server):
    proxy.delay_s = 0.5
    proxy.set_fault(Fault.SLOW)
    source = RestSource(proxy.uri, _settings(proxy, max_concurrency=2))
    import asyncio

    try:
        started = time.monotonic()
        await asyncio.gather(*(source.server_version() for _ in range(6)))
        elapsed = time.monotonic() - started
    finally:
        await source.aclose()
    # 6 requests of 0.5 s, two at a time: at least three rounds.
    assert elapsed >= 1.4
    assert proxy.count() == 6


async def test_rate_limited_error_carries_retry_after(proxy, source):
    proxy.retry_after = "30"
    proxy.set_fault(Fault.RATE_LIMITED)
    with pytest.raises(RateLimitedError) as caught:
        await source.server_version()
    assert caught.value.retry_after == pytest.approx(30.0)
    assert caught.value.kind is SourceErrorKind.RATE_LIMITED


def test_credentials_in_the_uri_are_redacted():
    assert redact_uri("http://ana:pw@127.0.0.1:5000/mlflow") == "http://***@127.0.0.1:5000/mlflow"
    assert redact_uri("https://127.0.0.1:5000") == "https://127.0.0.1:5000"


async def test_uri_credentials_stay_out_of_titles(proxy):
    uri = proxy.uri.replace("http://", "http://ana:secret-pw@")
    source = RestSource(uri, _settings(proxy))
    proxy.set_fault(Fault.UNAUTHENTICATED)
    try:
        with pytest.raises(SourceError) as caught:
            await source.search_experiments()
    finally:
        await source.aclose()
    assert "secret-pw" not in caught.value.title
    assert "secret-pw" not in source.uri
    # httpx sends the URI's credentials as Basic auth: base64("ana:secret-pw").
    assert proxy.requests[0].headers["Authorization"] == "Basic YW5hOnNlY3JldC1wdw=="
