"""Which adapter serves which exchange. Adding Bybit means a ``bybit`` module and one line in ``BUILDERS``."""

from __future__ import annotations

from collections.abc import Callable

from keeper.exchanges import binance, okx
from keeper.exchanges.base import ExchangeAdapter
from keeper.interface import Exchange
from keeper.limits import EndpointLimiter, UsedWeightGate
from keeper.settings import AccountCredentials, KeeperSettings
from keeper.transport import HttpTransport, TransportConfig

AdapterFactory = Callable[[AccountCredentials], ExchangeAdapter]


def transport_config(settings: KeeperSettings, exchange: Exchange) -> TransportConfig:
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
    )


def okx_factory(settings: KeeperSettings) -> AdapterFactory:
    limiter = EndpointLimiter(okx.RATES, okx.DEFAULT_RATE, settings.limiter_max_wait_seconds)
    transport = HttpTransport("okx", transport_config(settings, Exchange.OKX), limiter)
    return lambda credentials: okx.OkxAdapter(credentials, transport)


def binance_factory(settings: KeeperSettings) -> AdapterFactory:
    rates = binance.weight_rate(
        settings.binance_weight_limit_per_minute, settings.binance_weight_safety_margin
    )
    limiter = EndpointLimiter(rates, rates[binance.WEIGHT_KEY], settings.limiter_max_wait_seconds)
    transport = HttpTransport("binance", transport_config(settings, Exchange.BINANCE), limiter)
    gate = UsedWeightGate(settings.binance_weight_limit_per_minute, settings.binance_weight_safety_margin)
    return lambda credentials: binance.BinanceAdapter(
        credentials,
        transport,
        recv_window_ms=settings.binance_recv_window_ms,
        weight_gate=gate,
        max_gate_wait_seconds=settings.limiter_max_wait_seconds,
    )


BUILDERS: dict[Exchange, Callable[[KeeperSettings], AdapterFactory]] = {
    Exchange.OKX: okx_factory,
    Exchange.BINANCE: binance_factory,
}


class UnsupportedExchangeError(ValueError):
    def __init__(self, exchange: Exchange) -> None:
        super().__init__(f"no adapter for {exchange.slug}")
        self.exchange = exchange


class AdapterRegistry:
    """One transport (Session, limiter) per exchange, shared by the adapters of all accounts."""

    def __init__(self, settings: KeeperSettings) -> None:
        self._factories = {exchange: build(settings) for exchange, build in BUILDERS.items()}

    def adapter_for(self, credentials: AccountCredentials) -> ExchangeAdapter:
        factory = self._factories.get(credentials.exchange)
        if factory is None:
            raise UnsupportedExchangeError(credentials.exchange)
        return factory(credentials)
