"""Which adapter serves which exchange: a new exchange is a module, its ``WireRules`` and a BUILDERS line."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from keeper.exchanges import binance, bybit, okx
from keeper.exchanges.base import ExchangeAdapter
from keeper.exchanges.binance_windows import SharedAnswers
from keeper.exchanges.limits import EndpointLimiter, UsedWeightGate
from keeper.exchanges.transport import HttpTransport, RawResponse, TimeSource, TransportConfig
from keeper.interface import Exchange
from keeper.settings import AccountCredentials, KeeperSettings

AdapterFactory = Callable[[AccountCredentials], ExchangeAdapter]


@dataclass(frozen=True)
class TransportFactory:
    """An adapter factory that also names the transport its adapters share (clock and back-off metrics)."""

    transport: HttpTransport
    build: AdapterFactory
    budget_key: str | None = None
    """The limiter key of an exchange whose claims are admitted by budget (Binance's weight per IP)."""
    weight_gate: UsedWeightGate | None = None
    """The server's own count of that budget, when the exchange reports it."""
    claim_weight: int | None = None
    """The units of ``budget_key`` admission reserves per claim (the adapters' ``limiter_needs``)."""

    def remaining_budget(self) -> int | None:
        """Units of ``budget_key`` left now: the lower of the limiter's and the server's figure."""
        if self.budget_key is None:
            return None
        left = self.transport.limiter.available(self.budget_key)
        return left if self.weight_gate is None else min(left, self.weight_gate.remaining())

    def __call__(self, credentials: AccountCredentials) -> ExchangeAdapter:
        return self.build(credentials)


OKX_TIME_PATH = "/api/v5/public/time"
BINANCE_TIME_PATH = "/fapi/v1/time"
OKX_TIMESTAMP_EXPIRED = "50102"
BINANCE_OUTSIDE_RECV_WINDOW = -1021
BYBIT_TIME_PATH = bybit.TIME_PATH
BYBIT_TIMESTAMP_REFUSED = bybit.CLOCK_SKEW_CODE
BYBIT_IP_BAN_SECONDS = 600.0
"""Bybit's IP limit (600 requests / 5 s): HTTP 403 "access too frequent", and "stop ... for at least 10
minutes" (rate-limit page)."""
# "Way too many requests; IP(1.2.3.4) banned until 1700000000000. Please use the websocket ..."
_BANNED_UNTIL = re.compile(rb"banned until (\d{12,14})")


def _error_code(raw: RawResponse) -> object:
    """The ``code`` of a JSON error body, or None: all the transport needs to read of an answer."""
    try:
        body = json.loads(raw.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return body.get("code") if isinstance(body, dict) else None


def okx_timestamp_refused(raw: RawResponse) -> bool:
    """OKX: HTTP 401 with code 50102 "Timestamp request expired" (more than 30 s off its clock)."""
    return raw.status == 401 and str(_error_code(raw)) == OKX_TIMESTAMP_EXPIRED


def binance_timestamp_refused(raw: RawResponse) -> bool:
    """Binance: HTTP 400 with -1021 "Timestamp for this request is outside of the recvWindow"."""
    return raw.status == 400 and _error_code(raw) == BINANCE_OUTSIDE_RECV_WINDOW


def binance_banned_until(raw: RawResponse) -> float | None:
    """The end of a 418 IP ban as the body names it (unix ms on the wire), in unix seconds."""
    found = _BANNED_UNTIL.search(raw.body)
    return int(found.group(1)) / 1000 if found else None


def bybit_timestamp_refused(raw: RawResponse) -> bool:
    """Bybit: retCode 10002 "the request time exceeds the time window range" (HTTP 200 or 4xx)."""
    try:
        body = json.loads(raw.body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and body.get("retCode") == BYBIT_TIMESTAMP_REFUSED


def bybit_ban_until(raw: RawResponse) -> float | None:
    """A 403 names no end: at least 10 minutes from now (the caller's clock is not at hand, so wall time)."""
    return time.time() + BYBIT_IP_BAN_SECONDS if raw.status == 403 else None


def okx_server_time(body: bytes) -> int:
    """``{"code":"0","data":[{"ts":"1597026383085"}]}`` -> 1597026383085."""
    return int(json.loads(body)["data"][0]["ts"])


def binance_server_time(body: bytes) -> int:
    """``{"serverTime": 1499827319559}`` -> 1499827319559."""
    return int(json.loads(body)["serverTime"])


@dataclass(frozen=True)
class WireRules:
    """What the transport must know of one exchange's wire: clock, refused timestamps, back-off statuses."""

    time_source: TimeSource
    skew_detector: Callable[[RawResponse], bool]
    backoff_statuses: frozenset[int] = frozenset()
    ban_until: Callable[[RawResponse], float | None] | None = None
    ip_limiter_key: str | None = None
    """A limiter key every request takes as well (an IP-wide limit whose breach is a ban)."""


WIRE_RULES: dict[Exchange, WireRules] = {
    # OKX limits are per user (the limiter paces them); a 429 is retried like a 5xx.
    Exchange.OKX: WireRules(
        TimeSource(OKX_TIME_PATH, okx_server_time, "public/time|ip"), okx_timestamp_refused
    ),
    # Binance limits are per IP: a 429 or a 418 closes the base URL for every worker.
    Exchange.BINANCE: WireRules(
        TimeSource(BINANCE_TIME_PATH, binance_server_time, binance.WEIGHT_KEY, 1),
        binance_timestamp_refused,
        frozenset({429, 418}),
        binance_banned_until,
    ),
    # Bybit limits are per UID (the limiter paces them, 10006 is retried later) and per IP: every request
    # also takes a unit of the IP key, kept below the 600 / 5 s whose breach is a 403 that closes the base
    # URL for every worker for at least 10 minutes.
    Exchange.BYBIT: WireRules(
        TimeSource(BYBIT_TIME_PATH, bybit.server_time, bybit.IP_KEY),
        bybit_timestamp_refused,
        frozenset({403}),
        bybit_ban_until,
        bybit.IP_KEY,
    ),
}


def transport_config(settings: KeeperSettings, exchange: Exchange) -> TransportConfig:
    rules = WIRE_RULES.get(exchange)
    return TransportConfig(
        base_url=settings.base_url(exchange),
        connect_timeout_seconds=settings.http_connect_timeout_seconds,
        read_timeout_seconds=settings.http_read_timeout_seconds,
        retries=settings.http_retries,
        backoff_factor=settings.http_backoff_factor,
        backoff_jitter=settings.http_backoff_jitter,
        backoff_max_seconds=settings.http_backoff_max_seconds,
        pool_size=max(2, settings.verify_workers),
        malformed_dump_dir=settings.malformed_dump_dir,
        time_source=rules.time_source if rules else None,
        skew_detector=rules.skew_detector if rules else None,
        backoff_statuses=rules.backoff_statuses if rules else frozenset(),
        ban_until=rules.ban_until if rules else None,
        ip_limiter_key=rules.ip_limiter_key if rules else None,
        skew_alert_after=settings.clock_skew_alert_after,
        ban_default_seconds=settings.backoff_default_seconds,
        ban_max_seconds=settings.backoff_max_ban_seconds,
    )


def okx_factory(settings: KeeperSettings) -> AdapterFactory:
    limiter = EndpointLimiter(okx.RATES, okx.DEFAULT_RATE, settings.limiter_max_wait_seconds)
    transport = HttpTransport("okx", transport_config(settings, Exchange.OKX), limiter)
    # Every adapter signs with the exchange's clock (local time + the offset the transport measures).
    return TransportFactory(
        transport, lambda credentials: okx.OkxAdapter(credentials, transport, clock=transport.clock.now)
    )


def binance_factory(settings: KeeperSettings) -> AdapterFactory:
    rates = binance.weight_rate(
        settings.binance_weight_limit_per_minute, settings.binance_weight_safety_margin
    )
    limiter = EndpointLimiter(rates, rates[binance.WEIGHT_KEY], settings.limiter_max_wait_seconds)
    transport = HttpTransport("binance", transport_config(settings, Exchange.BINANCE), limiter)
    gate = UsedWeightGate(settings.binance_weight_limit_per_minute, settings.binance_weight_safety_margin)
    shared = SharedAnswers()  # one income / forceOrders day-window read serves every claim it covers
    return TransportFactory(
        transport,
        lambda credentials: binance.BinanceAdapter(
            credentials,
            transport,
            clock=transport.clock.now,
            recv_window_ms=settings.binance_recv_window_ms,
            weight_gate=gate,
            max_gate_wait_seconds=settings.limiter_max_wait_seconds,
            shared_answers=shared,
        ),
        budget_key=binance.WEIGHT_KEY,
        weight_gate=gate,
        claim_weight=binance.worst_case_claim_weight(),
    )


def bybit_factory(settings: KeeperSettings) -> AdapterFactory:
    limiter = EndpointLimiter(bybit.RATES, bybit.DEFAULT_RATE, settings.limiter_max_wait_seconds)
    transport = HttpTransport("bybit", transport_config(settings, Exchange.BYBIT), limiter)
    return TransportFactory(
        transport,
        lambda credentials: bybit.BybitAdapter(
            credentials,
            transport,
            clock=transport.clock.now,
            recv_window_ms=settings.bybit_recv_window_ms,
        ),
    )


ADAPTERS: dict[Exchange, type[ExchangeAdapter]] = {
    Exchange.OKX: okx.OkxAdapter,
    Exchange.BINANCE: binance.BinanceAdapter,
    Exchange.BYBIT: bybit.BybitAdapter,
}
"""The adapter class of each exchange (a replay builds it over recorded answers; the review desk reads its
``retention_ms``)."""

BUILDERS: dict[Exchange, Callable[[KeeperSettings], AdapterFactory]] = {
    Exchange.OKX: okx_factory,
    Exchange.BINANCE: binance_factory,
    Exchange.BYBIT: bybit_factory,
}


class UnsupportedExchangeError(ValueError):
    def __init__(self, exchange: Exchange) -> None:
        super().__init__(f"no adapter for {exchange.slug}")
        self.exchange = exchange


class AdapterRegistry:
    """One transport (Session, limiter, clock, back-off) per exchange, shared by the adapters of all
    accounts and all workers."""

    def __init__(self, settings: KeeperSettings) -> None:
        self._factories = {exchange: build(settings) for exchange, build in BUILDERS.items()}

    def adapter_for(self, credentials: AccountCredentials) -> ExchangeAdapter:
        factory = self._factories.get(credentials.exchange)
        if factory is None:
            raise UnsupportedExchangeError(credentials.exchange)
        return factory(credentials)

    def limiter_for(self, exchange: Exchange) -> EndpointLimiter | None:
        """The limiter every adapter of ``exchange`` shares (what the verifier's scheduler asks)."""
        factory = self._factories.get(exchange)
        return factory.transport.limiter if isinstance(factory, TransportFactory) else None

    def remaining_budgets(self) -> dict[str, int]:
        """Units left now of each budget claims are admitted by (``binance:weight-1m``)."""
        budgets: dict[str, int] = {}
        for factory in self._factories.values():
            if isinstance(factory, TransportFactory) and factory.budget_key is not None:
                left = factory.remaining_budget()
                budgets[factory.budget_key] = 0 if left is None else left
        return budgets

    def admission_caps(self) -> dict[Exchange, int]:
        """How many claims each budget-admitted exchange's remaining budget covers now, at most: what a
        pass reads of its due claims (the rest would only wait)."""
        caps: dict[Exchange, int] = {}
        for exchange, factory in self._factories.items():
            if isinstance(factory, TransportFactory) and factory.claim_weight:
                caps[exchange] = (factory.remaining_budget() or 0) // factory.claim_weight
        return caps

    def transports(self) -> dict[Exchange, HttpTransport]:
        """Each exchange's shared transport: ``.clock`` (offset_ms, skew_errors, alerts) and ``.backoff``."""
        return {
            exchange: factory.transport
            for exchange, factory in self._factories.items()
            if isinstance(factory, TransportFactory)
        }


def purge_deadline(exchange: Exchange, earliest_ms: int) -> int | None:
    """Unix seconds after which the exchange no longer serves the order: the claim's earliest possible
    liquidation plus the adapter's ``retention_ms`` (None for an exchange without an adapter)."""
    adapter = ADAPTERS.get(exchange)
    return None if adapter is None else (earliest_ms + adapter.retention_ms) // 1000
