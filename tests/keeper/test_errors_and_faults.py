"""Each error class and fault mode: what the keeper does with the claim, and how often it asked."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.factories import make_settings

from keeper.evidence import ClaimInput
from keeper.exchanges.binance import BinanceAdapter
from keeper.exchanges.errors import ClockSkewError, Disposition
from keeper.exchanges.limits import EndpointLimiter, EndpointRate
from keeper.exchanges.okx import OkxAdapter
from keeper.exchanges.registry import AdapterRegistry, transport_config
from keeper.exchanges.transport import HttpTransport
from keeper.exchanges.verifier import Verifier
from keeper.interface import Exchange
from keeper.settings import AccountCredentials, AccountRegistry, KeeperSettings
from keeper.sim.faults import FaultConfig
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

# The keeper's default claim window: the span a claim's liquidation can fall in.
CLAIM_WINDOW_SECONDS: int = KeeperSettings.model_fields["claim_window_seconds"].default


def request_for(scenarios: ScenarioFile, scenario: str) -> VerificationRequest:
    expected = next(e for e in scenarios.expected if e.scenario == scenario)
    return VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), CLAIM_WINDOW_SECONDS)


def verify(settings: KeeperSettings, request: VerificationRequest) -> VerificationOutcome:
    return Verifier(settings.account_registry(), AdapterRegistry(settings)).verify(request)


def statuses(sim: SimExchange, path: str) -> list[int]:
    return [status for seen, status in sim.state.request_log if seen == path]


def with_secret(registry: AccountRegistry, account_ref: str, secret: str) -> AccountRegistry:
    creds = registry.lookup(account_ref)
    return AccountRegistry({account_ref: creds.model_copy(update={"secret": type(creds.secret)(secret)})})


@pytest.mark.parametrize(
    ("scenario", "path", "code", "http_status"),
    [
        ("okx:full_liquidation", "/api/v5/trade/order", "50113", 401),
        ("binance:full_liquidation", "/fapi/v1/order", "-1022", 400),
    ],
)
def test_verify__wrong_secret__authentication_alert_without_retry(
    keeper_settings: KeeperSettings,
    sim: SimExchange,
    scenarios: ScenarioFile,
    scenario: str,
    path: str,
    code: str,
    http_status: int,
) -> None:
    request = request_for(scenarios, scenario)
    accounts = with_secret(keeper_settings.account_registry(), request.account_ref, "not-the-secret")
    outcome = Verifier(accounts, AdapterRegistry(keeper_settings)).verify(request)
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.DEFERRED,
        "authentication",
        Disposition.ALERT,
    )
    assert f"code {code}" in outcome.detail
    assert statuses(sim, path) == [http_status]


def test_verify__unknown_binance_api_key__authentication_error(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    request = request_for(scenarios, "binance:full_liquidation")
    creds = AccountCredentials.model_validate({"exchange": "binance", "api_key": "nobody", "secret": "x"})
    outcome = Verifier(
        AccountRegistry({request.account_ref: creds}), AdapterRegistry(keeper_settings)
    ).verify(request)
    assert (outcome.error, outcome.disposition) == ("authentication", Disposition.ALERT)
    assert "code -2015" in outcome.detail


@pytest.mark.parametrize(
    ("scenario", "error", "reason"),
    [
        ("okx:unknown_order", "not_found", 3),
        ("binance:unknown_order", "not_found", 3),
        ("okx:order_of_other_account", "not_found", 3),
        ("binance:unknown_account", "unknown_account", 4),
        ("okx:exchange_mismatch", "account_mismatch", 5),
    ],
)
def test_verify__rejection_without_evidence__rejected_with_reason(
    verifier: Verifier, scenarios: ScenarioFile, scenario: str, error: str, reason: int
) -> None:
    outcome = verifier.verify(request_for(scenarios, scenario))
    assert (outcome.status, outcome.error, outcome.reason_code, outcome.evidence) == (
        OutcomeStatus.REJECTED,
        error,
        reason,
        None,
    )


def test_verify__5xx_burst_shorter_than_retries__retried_then_verified(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    sim.set_faults(FaultConfig(error_5xx_burst=2))
    outcome = verify(keeper_settings, request_for(scenarios, "okx:full_liquidation"))
    assert outcome.status is OutcomeStatus.VERIFIED
    assert statuses(sim, "/api/v5/trade/order") == [503, 503, 200]


def test_verify__persistent_5xx__deferred_transient_after_retries(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    sim.set_faults(FaultConfig(error_5xx_rate=1.0))
    outcome = verify(keeper_settings, request_for(scenarios, "binance:full_liquidation"))
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.DEFERRED,
        "transient",
        Disposition.DEFER,
    )
    assert outcome.reason_code is None
    assert statuses(sim, "/fapi/v1/order") == [503, 503, 503]  # 1 try + http_retries=2


def test_verify__okx_429_with_retry_after__waits_re_signs_then_verified(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    # OKX limits are per user and the limiter paces them: a 429 is retried after its Retry-After.
    sim.set_faults(FaultConfig(rate_limit_burst=1, retry_after_seconds=1))
    started = time.monotonic()
    outcome = verify(keeper_settings, request_for(scenarios, "okx:normal_close"))
    assert outcome.status is OutcomeStatus.VERIFIED
    assert time.monotonic() - started >= 1.0
    assert statuses(sim, "/api/v5/trade/order") == [429, 200]


def test_verify__binance_429_with_retry_after__backs_off_without_resending(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    # Binance limits are per IP and a client that keeps sending after a 429 is banned: never resent.
    sim.set_faults(FaultConfig(rate_limit_burst=1, retry_after_seconds=30))
    outcome = verify(keeper_settings, request_for(scenarios, "binance:normal_close"))
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.DEFERRED,
        "backing_off",
        Disposition.DEFER,
    )
    assert "Retry-After" in outcome.detail
    assert statuses(sim, "/fapi/v1/order") == [429]


@pytest.mark.parametrize(
    ("scenario", "error", "path", "sent"),
    [
        ("okx:full_liquidation", "rate_limited", "/api/v5/trade/order", [429, 429, 429]),
        ("binance:full_liquidation", "backing_off", "/fapi/v1/order", [429]),
    ],
)
def test_verify__429_longer_than_retries__deferred_rate_limited(
    keeper_settings: KeeperSettings,
    sim: SimExchange,
    scenarios: ScenarioFile,
    scenario: str,
    error: str,
    path: str,
    sent: list[int],
) -> None:
    sim.set_faults(FaultConfig(rate_limit_burst=10))
    outcome = verify(keeper_settings, request_for(scenarios, scenario))
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.DEFERRED,
        error,
        Disposition.DEFER,
    )
    assert statuses(sim, path) == sent  # OKX: 1 try + http_retries=2; Binance: the first 429 stops it


def test_verify__server_slower_than_read_timeout__deferred_transient(
    sim: SimExchange, accounts_file: Path, tmp_path: Path, scenarios: ScenarioFile
) -> None:
    settings = make_settings(sim.url, accounts_file, tmp_path, http_read_timeout_seconds=0.2, http_retries=1)
    sim.set_faults(FaultConfig(timeout_rate=1.0, timeout_seconds=0.6))
    outcome = verify(settings, request_for(scenarios, "okx:full_liquidation"))
    assert (outcome.status, outcome.error) == (OutcomeStatus.DEFERRED, "transient")
    assert "Timeout" in outcome.detail


@pytest.mark.parametrize(
    ("fault", "marker"), [("truncated_rate", b'{"code":"0"'), ("malformed_rate", b"<html>")]
)
def test_verify__corrupt_body__manual_review_with_raw_body_saved(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile, fault: str, marker: bytes
) -> None:
    sim.set_faults(FaultConfig(**{fault: 1.0}))
    outcome = verify(keeper_settings, request_for(scenarios, "okx:full_liquidation"))
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.NEEDS_REVIEW,
        "malformed_response",
        Disposition.MANUAL_REVIEW,
    )
    assert outcome.raw_body_saved_to is not None
    saved = Path(outcome.raw_body_saved_to).read_bytes()
    assert saved.startswith(marker)
    with pytest.raises(json.JSONDecodeError):
        json.loads(saved)


def test_verify__binance_autoclose_order_missing_from_force_orders__manual_review(
    scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    spoofed = scenarios.model_copy(deep=True)
    spoofed.binance.force_orders.clear()  # a user-chosen "autoclose-" clientOrderId is not a liquidation
    sim = SimExchange(spoofed).start()
    try:
        outcome = verify(
            make_settings(sim.url, accounts_file, tmp_path),
            request_for(scenarios, "binance:full_liquidation"),
        )
    finally:
        sim.stop()
    assert (outcome.error, outcome.disposition) == ("inconsistent_evidence", Disposition.MANUAL_REVIEW)
    assert "not in forceOrders" in outcome.detail


def test_verify__okx_liquidation_with_ordinary_fills__manual_review(
    scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    altered = scenarios.model_copy(deep=True)
    for fill in altered.okx.fills:
        fill.wire["subType"] = "5"
    sim = SimExchange(altered).start()
    try:
        outcome = verify(
            make_settings(sim.url, accounts_file, tmp_path), request_for(scenarios, "okx:full_liquidation")
        )
    finally:
        sim.stop()
    assert (outcome.error, outcome.disposition) == ("inconsistent_evidence", Disposition.MANUAL_REVIEW)
    assert "subType 5" in outcome.detail


def _adapter_with_clock(
    exchange: Exchange, settings: KeeperSettings, request: VerificationRequest, skew: timedelta
) -> OkxAdapter | BinanceAdapter:
    creds = settings.account_registry().lookup(request.account_ref)
    limiter = EndpointLimiter({}, EndpointRate(100, 1000), 1.0)
    transport = HttpTransport(exchange.slug, transport_config(settings, exchange), limiter)
    adapter_type = OkxAdapter if exchange is Exchange.OKX else BinanceAdapter
    return adapter_type(creds, transport, clock=lambda: datetime.now(UTC) + skew)


@pytest.mark.parametrize(
    ("scenario", "path", "status"),
    [("okx:full_liquidation", "/api/v5/trade/order", 401), ("binance:adl", "/fapi/v1/order", 400)],
)
def test_fetch_evidence__adapter_clock_not_the_exchange_clock__clock_skew_after_one_resign(
    keeper_settings: KeeperSettings,
    sim: SimExchange,
    scenarios: ScenarioFile,
    scenario: str,
    path: str,
    status: int,
) -> None:
    # An adapter signing with its own clock 40 s behind: re-syncing the transport's clock cannot help it, so
    # after one re-signed attempt the claim is deferred as clock_skew (never an authentication alert).
    request = request_for(scenarios, scenario)
    adapter = _adapter_with_clock(request.exchange, keeper_settings, request, timedelta(seconds=-40))
    with pytest.raises(ClockSkewError, match="timestamp refused again after a clock re-sync") as caught:
        adapter.fetch_evidence(request.order_query(int(time.time() * 1000)))
    assert (caught.value.error_name, caught.value.disposition) == ("clock_skew", Disposition.DEFER)
    assert statuses(sim, path) == [status, status]


def test_fetch_evidence__clock_slightly_behind__within_window_verified(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    request = request_for(scenarios, "binance:adl")
    adapter = _adapter_with_clock(Exchange.BINANCE, keeper_settings, request, timedelta(seconds=-3))
    evidence = adapter.fetch_evidence(request.order_query(int(time.time() * 1000)))
    assert evidence.liquidation.value == "adl"


def test_verify__nothing_listening__deferred_transient_after_retries(
    accounts_file: Path, tmp_path: Path, scenarios: ScenarioFile
) -> None:
    probe = SimExchange(scenarios)
    closed_url = probe.url
    probe.httpd.server_close()  # the port is now closed: connections are refused
    outcome = verify(
        make_settings(closed_url, accounts_file, tmp_path), request_for(scenarios, "binance:adl")
    )
    assert (outcome.status, outcome.error, outcome.disposition) == (
        OutcomeStatus.DEFERRED,
        "transient",
        Disposition.DEFER,
    )
    assert "ConnectionError" in outcome.detail


def test_verify__added_latency__still_verified_and_slower(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    sim.set_faults(FaultConfig(latency_ms=150))
    started = time.monotonic()
    outcome = verify(keeper_settings, request_for(scenarios, "okx:adl"))
    assert outcome.status is OutcomeStatus.VERIFIED
    assert time.monotonic() - started >= 0.3  # order + fills, 150 ms each
