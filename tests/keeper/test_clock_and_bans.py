"""The exchange's clock, re-signed retries and Binance back-offs / bans (review rows 7 and 8)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from support.factories import make_settings

from keeper.evidence import ClaimInput
from keeper.exchanges.clock import ServerClock
from keeper.exchanges.errors import BackOffError, ClockSkewError, Disposition
from keeper.exchanges.limits import (
    CLOSING_RETRY_SECONDS,
    BackOffState,
    EndpointLimiter,
    EndpointRate,
    SharedBackOff,
)
from keeper.exchanges.okx import OkxAdapter
from keeper.exchanges.registry import (
    AdapterRegistry,
    binance_banned_until,
    binance_timestamp_refused,
    okx_timestamp_refused,
    transport_config,
)
from keeper.exchanges.transport import HttpTransport, RawResponse, retry_after_seconds
from keeper.exchanges.verifier import Verifier
from keeper.interface import Exchange
from keeper.settings import KeeperSettings
from keeper.sim.faults import FaultConfig
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange, SimLimits
from keeper.sim.wire import Reply
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

CLAIM_WINDOW_SECONDS: int = KeeperSettings.model_fields["claim_window_seconds"].default
ORDER_PATHS = {Exchange.OKX: "/api/v5/trade/order", Exchange.BINANCE: "/fapi/v1/order"}
TIME_PATHS = {Exchange.OKX: "/api/v5/public/time", Exchange.BINANCE: "/fapi/v1/time"}


def request_for(scenarios: ScenarioFile, scenario: str) -> VerificationRequest:
    expected = next(e for e in scenarios.expected if e.scenario == scenario)
    return VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), CLAIM_WINDOW_SECONDS)


def statuses(sim: SimExchange, path: str) -> list[int]:
    return [status for seen, status in sim.state.request_log if seen == path]


def binance_requests(sim: SimExchange) -> int:
    return sum(1 for seen, _ in sim.state.request_log if seen.startswith("/fapi/"))


def raw(status: int, body: bytes, headers: dict[str, str] | None = None) -> RawResponse:
    return RawResponse("GET /x", status, CaseInsensitiveDict(headers or {}), body)


# ------------------------------------------------------------------------------------------ the clock


def test_server_clock__sync__offset_from_round_trip_midpoint() -> None:
    readings = iter([100.0, 100.2])
    clock = ServerClock("okx", lambda: 100_150, local=lambda: next(readings))
    assert clock.sync() == pytest.approx(50.0)
    assert (clock.synced, clock.syncs) == (True, 1)
    assert clock.last_round_trip_ms == pytest.approx(200.0)


def test_server_clock__now__local_plus_offset() -> None:
    clock = ServerClock("binance", local=lambda: 1_000.0)
    clock.set_offset(45_000)
    assert clock.now_ms() == 1_045_000
    assert clock.now().timestamp() == 1_045.0


def test_server_clock__many_workers_before_first_request__one_sync() -> None:
    calls: list[int] = []

    def reader() -> int:
        calls.append(1)
        time.sleep(0.05)  # the others arrive while the first one is syncing
        return int(time.time() * 1000) + 2_000

    clock = ServerClock("binance", reader)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: clock.ensure_synced(), range(8)))
    assert (len(calls), clock.syncs) == (1, 1)
    assert clock.offset_ms == pytest.approx(2_000, abs=100)


@pytest.mark.parametrize("scenario", ["okx:full_liquidation", "binance:full_liquidation"])
def test_verify__keeper_clock_45s_behind_from_start__synced_before_first_signed_request(
    scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, scenario: str
) -> None:
    # before: every request signed with the host clock, refused (50102 / -1021), deferred as transient.
    sim = SimExchange(scenarios, faults=FaultConfig(clock_skew_ms=45_000)).start()
    try:
        settings = make_settings(sim.url, accounts_file, tmp_path)
        registry = AdapterRegistry(settings)
        request = request_for(scenarios, scenario)
        outcome = Verifier(settings.account_registry(), registry).verify(request)
        clock = registry.transports()[request.exchange].clock
    finally:
        sim.stop()
    assert outcome.status is OutcomeStatus.VERIFIED
    assert sim.state.request_log[0] == (TIME_PATHS[request.exchange], 200)
    assert (clock.syncs, clock.skew_errors) == (1, 0)
    assert clock.offset_ms == pytest.approx(45_000, abs=1_000)


@pytest.mark.parametrize(
    ("scenario", "refused"), [("okx:full_liquidation", 401), ("binance:full_liquidation", 400)]
)
def test_verify__exchange_clock_jumps_45s_after_sync__verified_after_one_resync(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile, scenario: str, refused: int
) -> None:
    # before: the retry carried the same stale timestamp; the claim was deferred as transient.
    registry = AdapterRegistry(keeper_settings)
    verifier = Verifier(keeper_settings.account_registry(), registry)
    request = request_for(scenarios, scenario)
    assert verifier.verify(request).status is OutcomeStatus.VERIFIED
    sim.set_faults(FaultConfig(clock_skew_ms=45_000))  # the keeper host's clock is now 45 s behind
    outcome = verifier.verify(request)
    clock = registry.transports()[request.exchange].clock
    assert outcome.status is OutcomeStatus.VERIFIED
    assert statuses(sim, ORDER_PATHS[request.exchange]) == [200, refused, 200]
    assert (clock.syncs, clock.skew_errors, clock.alerts) == (2, 1, 0)
    assert clock.offset_ms == pytest.approx(45_000, abs=1_000)


def test_fetch_evidence__time_endpoint_disagrees_with_signature_check__alert_after_three_refusals(
    keeper_settings: KeeperSettings,
    sim: SimExchange,
    scenarios: ScenarioFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A clock source 60 s off (a broken time endpoint or proxy): every re-sync keeps the timestamps refused.
    request = request_for(scenarios, "okx:full_liquidation")
    lying = ServerClock("okx", lambda: int(time.time() * 1000) - 60_000, alert_after=3)
    transport = HttpTransport(
        "okx",
        transport_config(keeper_settings, Exchange.OKX),
        EndpointLimiter({}, EndpointRate(100, 1000), 1.0),
        clock=lying,
    )
    creds = keeper_settings.account_registry().lookup(request.account_ref)
    adapter = OkxAdapter(creds, transport, clock=lying.now)
    with caplog.at_level(logging.ERROR, logger="keeper.exchanges.clock"):
        for _ in range(2):
            with pytest.raises(ClockSkewError) as caught:
                adapter.fetch_evidence(request.order_query(int(time.time() * 1000)))
            assert caught.value.disposition is Disposition.DEFER
    assert (lying.skew_errors, lying.alerts) == (4, 1)
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage().startswith("ALERT")]
    assert len(alerts) == 1
    assert "okx refused 3 timestamps in a row (clock offset -60" in alerts[0].getMessage()
    assert statuses(sim, "/api/v5/trade/order") == [401] * 4
    assert adapter.answers == []  # refused timestamps are not answers about the claim


def test_skew_detectors__documented_codes_only() -> None:
    assert okx_timestamp_refused(raw(401, b'{"msg":"Timestamp request expired","code":"50102"}'))
    assert not okx_timestamp_refused(raw(401, b'{"msg":"Invalid Sign","code":"50113"}'))
    assert not okx_timestamp_refused(raw(200, b'{"code":"50102"}'))
    assert binance_timestamp_refused(
        raw(400, b'{"code":-1021,"msg":"Timestamp for this request is outside"}')
    )
    assert not binance_timestamp_refused(raw(400, b'{"code":-1022,"msg":"Signature not valid"}'))
    assert not binance_timestamp_refused(raw(503, b"<html>"))


# ------------------------------------------------------------------------------------ re-signed retries


@pytest.mark.parametrize("scenario", ["okx:full_liquidation", "binance:full_liquidation"])
def test_verify__5xx_then_200__each_attempt_re_signed(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile, scenario: str
) -> None:
    # before: urllib3 resent the first attempt's bytes: one timestamp, one signature, twice.
    request = request_for(scenarios, scenario)
    path = ORDER_PATHS[request.exchange]
    sim.set_faults(FaultConfig(error_5xx_burst=1, latency_ms=5))
    outcome = Verifier(keeper_settings.account_registry(), AdapterRegistry(keeper_settings)).verify(request)
    assert outcome.status is OutcomeStatus.VERIFIED
    attempts = [s for s in sim.state.seen if urlsplit(s.raw_path).path == path]
    assert [s.status for s in attempts] == [503, 200]
    if request.exchange is Exchange.OKX:
        stamps = [s.okx_timestamp for s in attempts]
    else:
        stamps = [dict(parse_qsl(urlsplit(s.raw_path).query))["timestamp"] for s in attempts]
    assert len(set(stamps)) == 2, stamps


# ---------------------------------------------------------------------------------- Binance back-off


def test_verify__binance_429__shared_back_off_second_worker_sends_nothing(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    # before: urllib3 retried the 429, and every worker kept sending on its own.
    registry = AdapterRegistry(keeper_settings)
    verifier = Verifier(keeper_settings.account_registry(), registry)
    sim.set_faults(FaultConfig(rate_limit_burst=1, retry_after_seconds=30))
    started = time.time()
    first = verifier.verify(request_for(scenarios, "binance:full_liquidation"))
    sent = binance_requests(sim)
    second = verifier.verify(request_for(scenarios, "binance:adl"))  # another account, same base URL
    for outcome in (first, second):
        assert (outcome.status, outcome.error, outcome.disposition) == (
            OutcomeStatus.DEFERRED,
            "backing_off",
            Disposition.DEFER,
        )
    assert binance_requests(sim) == sent
    assert "not sent: backing off" in second.detail
    state = registry.transports()[Exchange.BINANCE].backoff.active(time.time())
    assert state is not None
    assert started + 29 <= state.until <= time.time() + 31
    # OKX (limits per user, another transport) is not held back.
    okx = verifier.verify(request_for(scenarios, "okx:full_liquidation"))
    assert okx.status is OutcomeStatus.VERIFIED


def test_transport__back_off_active__raises_before_the_limiter_wait(
    keeper_settings: KeeperSettings, sim: SimExchange
) -> None:
    # A limiter that would make the caller wait 5 s: the back-off answers first, without waiting or sending.
    limiter = EndpointLimiter({}, EndpointRate(1, 60_000), max_wait_seconds=5.0)
    transport = HttpTransport("binance", transport_config(keeper_settings, Exchange.BINANCE), limiter)
    limiter.acquire("k")
    transport.backoff.impose(time.time() + 60, "test")
    started = time.monotonic()
    with pytest.raises(BackOffError) as caught:
        transport.get("/fapi/v1/order", "symbol=BTCUSDT&orderId=1", lambda q: (q, {}), "k")
    assert time.monotonic() - started < 1.0
    assert caught.value.until == pytest.approx(time.time() + 60, abs=2)
    assert sim.state.request_log == []


@pytest.mark.parametrize("omit_rate", [0.0, 1.0])
def test_verify_many__binance_429_under_concurrent_workers__keeper_never_triggers_the_418(
    scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, omit_rate: float
) -> None:
    # The sim bans an IP that sends 3 more requests during its 429 back-off; with or without Retry-After
    # (USD-M does not promise it), the keeper stops at the first 429, in-flight requests aside.
    sim = SimExchange(scenarios, limits=SimLimits(binance_ban_after_violations=3)).start()
    settings = make_settings(sim.url, accounts_file, tmp_path)
    try:
        verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), max_workers=3)
        assert verifier.verify(request_for(scenarios, "binance:adl")).status is OutcomeStatus.VERIFIED
        sim.set_faults(
            FaultConfig(rate_limit_burst=1, retry_after_seconds=20, retry_after_omit_rate=omit_rate)
        )
        batch = [request_for(scenarios, s) for s in ("binance:adl", "binance:full_liquidation")] * 6
        outcomes = verifier.verify_many(batch)
        sent_after = binance_requests(sim)
        again = verifier.verify_many(batch)
    finally:
        sim.stop()
    binance_statuses = [status for path, status in sim.state.request_log if path.startswith("/fapi/")]
    assert 418 not in binance_statuses
    assert binance_statuses.count(429) == 1
    assert {o.error for o in outcomes if o.status is OutcomeStatus.DEFERRED} == {"backing_off"}
    assert all(o.error == "backing_off" for o in again)
    assert binance_requests(sim) == sent_after


# ------------------------------------------------------------------------------- the sim's escalation


def test_sim__client_ignoring_429__banned_418_then_doubled(scenarios: ScenarioFile) -> None:
    sim = SimExchange(
        scenarios, faults=FaultConfig(rate_limit_burst=1, retry_after_seconds=60, spare_time_endpoints=False)
    ).start()
    try:
        url = f"{sim.url}/fapi/v1/time"
        answers = [requests.get(url, timeout=5) for _ in range(5)]
        ban = answers[-1]
        with ThreadPoolExecutor(1) as pool:
            everything = pool.submit(requests.get, f"{sim.url}/fapi/v1/order?symbol=X", timeout=5).result()
    finally:
        sim.stop()
    assert [a.status_code for a in answers] == [429, 200, 200, 200, 418]
    body = ban.json()
    assert body["code"] == -1003
    assert body["msg"].startswith("Way too many requests; IP(127.0.0.1) banned until ")
    until = binance_banned_until(raw(418, ban.content))
    assert until is not None
    assert until == pytest.approx(time.time() + 120, abs=3)
    assert ban.headers["Retry-After"] in {"119", "120"}
    assert everything.status_code == 418


def test_sim__second_ban__twice_as_long(scenarios: ScenarioFile) -> None:
    clock = [1_000_000.0]
    sim = SimExchange(scenarios, limits=SimLimits(binance_ban_after_violations=0), clock=lambda: clock[0])
    sim.bans.observe("1.2.3.4", _reply_429(), sim.state.now_ms())
    first = sim.bans.admit("1.2.3.4", sim.state.now_ms())
    clock[0] += 121
    sim.bans.observe("1.2.3.4", _reply_429(), sim.state.now_ms())
    second = sim.bans.admit("1.2.3.4", sim.state.now_ms())
    sim.httpd.server_close()
    assert first is not None and second is not None
    assert (first.headers["Retry-After"], second.headers["Retry-After"]) == ("120", "240")


def _reply_429() -> Reply:
    return Reply(429, {"code": -1003}, {"Retry-After": "60"})


def test_sim__retry_after_omit_rate__429_without_retry_after(scenarios: ScenarioFile) -> None:
    sim = SimExchange(
        scenarios,
        limits=SimLimits(binance_weight_per_minute=1),
        faults=FaultConfig(retry_after_omit_rate=1.0),
    ).start()
    try:
        answers = [requests.get(f"{sim.url}/fapi/v1/time", timeout=5) for _ in range(2)]
    finally:
        sim.stop()
    assert [a.status_code for a in answers] == [200, 429]
    assert "Retry-After" not in answers[1].headers


def test_verify__418_with_banned_until__back_off_until_that_time(
    keeper_settings: KeeperSettings, sim: SimExchange, scenarios: ScenarioFile
) -> None:
    sim.set_faults(FaultConfig(rate_limit_burst=1, retry_after_seconds=60, spare_time_endpoints=False))
    for _ in range(5):  # another client on the keeper's IP ignores its 429 and gets the IP banned
        ban = requests.get(f"{sim.url}/fapi/v1/time", timeout=5)
    assert ban.status_code == 418
    banned_until = int(ban.json()["msg"].split("banned until ")[1].split(".")[0]) / 1000
    registry = AdapterRegistry(keeper_settings)
    verifier = Verifier(keeper_settings.account_registry(), registry)
    first = verifier.verify(request_for(scenarios, "binance:full_liquidation"))
    sent = binance_requests(sim)
    second: VerificationOutcome = verifier.verify(request_for(scenarios, "binance:adl"))
    state = registry.transports()[Exchange.BINANCE].backoff.active(time.time())
    assert state is not None
    assert state.until == pytest.approx(banned_until, abs=0.002)
    assert "banned until the time the exchange named" in first.detail
    assert (first.error, second.error) == ("backing_off", "backing_off")
    assert binance_requests(sim) == sent


# ------------------------------------------------------------------------------------------- parsing


def test_binance_banned_until__documented_message__unix_seconds() -> None:
    body = b'{"code":-1003,"msg":"Way too many requests; IP(1.2.3.4) banned until 1700000000123. Please ..."}'
    assert binance_banned_until(raw(418, body)) == 1_700_000_000.123
    assert binance_banned_until(raw(418, b'{"code":-1003,"msg":"Way too many requests"}')) is None


def test_retry_after_seconds__delta_date_absent() -> None:
    assert retry_after_seconds(CaseInsensitiveDict({"retry-after": "7"}), 0.0) == 7.0
    assert retry_after_seconds(
        CaseInsensitiveDict({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), 1_445_412_470.0
    ) == pytest.approx(10.0)
    assert retry_after_seconds(CaseInsensitiveDict({}), 0.0) is None
    assert retry_after_seconds(CaseInsensitiveDict({"Retry-After": "soon"}), 0.0) is None


def test_shared_back_off__unnamed_bans__2_min_doubling_capped_at_3_days() -> None:
    backoff = SharedBackOff(default_seconds=120, max_seconds=3 * 86_400)
    lengths = [backoff.default_ban_seconds() for _ in range(13)]
    assert lengths[:4] == [120, 240, 480, 960]
    assert lengths[-1] == 3 * 86_400


def test_shared_back_off__later_deadline_never_shortened() -> None:
    backoff = SharedBackOff()
    backoff.impose(1_000.0, "418")
    backoff.impose(500.0, "429")
    state = backoff.active(400.0)
    assert state is not None
    assert (state.until, state.reason) == (1_000.0, "418")
    assert backoff.active(1_000.0) is None


def test_shared_back_off__while_a_refusal_is_read__closed_then_the_named_end() -> None:
    backoff = SharedBackOff()
    with backoff.closing():
        state = backoff.active(400.0)
        assert state is not None and state.until == 400.0 + CLOSING_RETRY_SECONDS
        backoff.impose(460.0, "429")
    assert backoff.active(400.0) == BackOffState(460.0, "429")
    assert backoff.active(460.0) is None


class _SlowBody:
    """A 429 whose body is still arriving: ``content`` blocks until ``release``."""

    status_code = 429
    headers: dict[str, str] = {}  # noqa: RUF012 (a stand-in for requests.Response)

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.release = threading.Event()

    @property
    def content(self) -> bytes:
        self.reading.set()
        assert self.release.wait(5)
        return b'{"code":-1003,"msg":"Too many requests"}'


def test_transport__429_status_line_seen__base_url_closed_before_its_body_is_read(
    keeper_settings: KeeperSettings,
) -> None:
    # Before: the back-off was imposed only after the body was read and parsed; on a loaded machine other
    # workers sent in that window and Binance's "3 more requests after a 429" ban followed (a flaky test).
    limiter = EndpointLimiter({}, EndpointRate(100, 1_000), max_wait_seconds=1.0)
    transport = HttpTransport("binance", transport_config(keeper_settings, Exchange.BINANCE), limiter)
    answer = _SlowBody()
    transport.session.get = lambda *args, **kwargs: answer  # type: ignore[method-assign]
    refused: list[BaseException] = []

    def first_worker() -> None:
        try:
            transport.get("/fapi/v1/order", "symbol=BTCUSDT&orderId=1", lambda q: (q, {}), "k")
        except BackOffError as exc:
            refused.append(exc)

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert answer.reading.wait(5)
    with pytest.raises(BackOffError, match="429 / 418 answer is being read"):
        transport.raise_if_backing_off("GET /fapi/v1/order")  # a second worker, before its send
    answer.release.set()
    worker.join(5)
    assert len(refused) == 1 and "HTTP 429" in str(refused[0])
    state = transport.backoff.active(time.time())
    assert state is not None and state.reason.startswith("HTTP 429")


def test_pipeline_defer__exchange_backing_off__claim_not_due_before_the_ban_ends(tmp_path: Path) -> None:
    # Before: a backed-off claim was retried after the usual 60 s and walked straight into the ban.
    from keeper.pipeline import Pipeline, PipelineConfig
    from keeper.store import ClaimRecord, SqliteStore
    from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

    store = SqliteStore(tmp_path / "keeper.sqlite3")
    ref = "0x" + "cd" * 32
    record = ClaimRecord(
        claim_id=1,
        user="0x" + "11" * 20,
        exchange=2,
        account_ref=ref,
        order_id="123",
        instrument="BTCUSDT",
        claimed_loss=1,
        block_number=1,
        log_index=0,
    )
    store.record_claims([record], cursor=1)
    pipeline = Pipeline(None, store, None, None, None, PipelineConfig(defer_base_seconds=60))  # type: ignore[arg-type]
    request = VerificationRequest(exchange=2, account_ref=ref, order_id="123", instrument="BTCUSDT")
    outcome = VerificationOutcome(
        request=request,
        status=OutcomeStatus.DEFERRED,
        error="backing_off",
        retry_at=time.time() + 600,
    )
    chain_now = 5_000_000
    pipeline._defer(1, outcome, chain_now)
    assert store.due_for_verification(chain_now + 599) == []
    assert [c.claim_id for c in store.due_for_verification(chain_now + 601)] == [1]
