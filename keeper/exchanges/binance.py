"""Binance USD-M futures adapter: the order, cross-checked with forceOrders, priced with userTrades."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from keeper.evidence import LiquidationEvidence, LiquidationKind, exact_sum, loss_from
from keeper.exchanges.base import ExchangeAdapter, WireDecimal, WireModel, parse_json, parse_model
from keeper.exchanges.errors import (
    AuthenticationError,
    InconsistentEvidenceError,
    MalformedResponseError,
    OrderNotFoundError,
    RateLimitedError,
    TransientError,
)
from keeper.interface import Exchange
from keeper.limits import EndpointRate, LimiterTimeoutError, UsedWeightGate
from keeper.settings import AccountCredentials
from keeper.transport import HttpTransport, RawResponse

ORDER_PATH = "/fapi/v1/order"
FORCE_ORDERS_PATH = "/fapi/v1/forceOrders"
USER_TRADES_PATH = "/fapi/v1/userTrades"
INCOME_PATH = "/fapi/v1/income"

# Request weight of each call (published per endpoint); Binance counts weight per IP per minute.
WEIGHTS = {ORDER_PATH: 1, FORCE_ORDERS_PATH: 20, USER_TRADES_PATH: 5, INCOME_PATH: 30}
WEIGHT_KEY = "binance:weight-1m"
USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
MAX_ROWS = 1000


def weight_rate(limit_per_minute: int, safety_margin: int) -> dict[str, EndpointRate]:
    return {WEIGHT_KEY: EndpointRate(max(1, limit_per_minute - safety_margin), 60_000)}


AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
RATE_LIMIT_CODES = frozenset({-1003, -1008, -1015})
TRANSIENT_CODES = frozenset({-1000, -1001, -1007, -1021})  # -1021: our request aged past recvWindow
NOT_FOUND_CODES = frozenset({-2013, -1121})

LIQUIDATION_PREFIX = "autoclose-"
ADL_CLIENT_ID = "adl_autoclose"


def binance_signature(total_params: str, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of the query string (plus body, which GETs do not have)."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def kind_from_client_order_id(client_order_id: str) -> LiquidationKind:
    # REST does not say whether a liquidation was partial; both kinds are covered alike, so report "full".
    if client_order_id.startswith(LIQUIDATION_PREFIX):
        return LiquidationKind.FULL
    if client_order_id == ADL_CLIENT_ID:
        return LiquidationKind.ADL
    return LiquidationKind.NONE


class BinanceError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: int
    msg: str = ""


class BinanceOrder(WireModel):
    order_id: int
    symbol: str
    status: str
    client_order_id: str
    avg_price: WireDecimal
    executed_qty: WireDecimal
    time: int
    update_time: int


class BinanceForceOrder(WireModel):
    order_id: int
    symbol: str


class BinanceTrade(WireModel):
    id: int
    order_id: int
    symbol: str
    qty: WireDecimal
    realized_pnl: WireDecimal
    commission: WireDecimal
    commission_asset: str
    time: int


class BinanceIncome(WireModel):
    symbol: str
    income_type: str
    income: WireDecimal
    asset: str
    trade_id: str = ""
    time: int


class BinanceAdapter(ExchangeAdapter):
    exchange: ClassVar[Exchange] = Exchange.BINANCE

    def __init__(
        self,
        credentials: AccountCredentials,
        transport: HttpTransport,
        clock: Callable[[], datetime] | None = None,
        *,
        recv_window_ms: int = 5000,
        weight_gate: UsedWeightGate | None = None,
        max_gate_wait_seconds: float = 30.0,
    ) -> None:
        super().__init__(credentials, transport, clock)
        self.recv_window_ms = recv_window_ms
        self.weight_gate = weight_gate
        self.max_gate_wait_seconds = max_gate_wait_seconds

    def fetch_evidence(self, order_id: str, instrument: str) -> LiquidationEvidence:
        order_raw = self._get(ORDER_PATH, [("symbol", instrument), ("orderId", order_id)])
        order = parse_model(BinanceOrder, self._json(order_raw, dict), order_raw, self.exchange.slug)
        if str(order.order_id) != order_id or order.symbol != instrument:
            raise self._inconsistent(
                order_raw, f"asked for {order_id}/{instrument}, got {order.order_id}/{order.symbol}"
            )
        kind = kind_from_client_order_id(order.client_order_id)
        digests = {order_raw.endpoint: order_raw.sha256}

        window = [("startTime", str(order.time - 1)), ("endTime", str(order.update_time + 1))]
        if kind is not LiquidationKind.NONE:
            close_type = "ADL" if kind is LiquidationKind.ADL else "LIQUIDATION"
            force_raw = self._get(
                FORCE_ORDERS_PATH,
                [("symbol", instrument), ("autoCloseType", close_type), *window, ("limit", "100")],
            )
            rows = self._json(force_raw, list)
            forced = [parse_model(BinanceForceOrder, row, force_raw, self.exchange.slug) for row in rows]
            if not any(f.order_id == order.order_id for f in forced):
                raise self._inconsistent(
                    force_raw,
                    f"clientOrderId {order.client_order_id!r} but order {order_id} is not in forceOrders",
                )
            digests[force_raw.endpoint] = force_raw.sha256

        trades_raw = self._get(
            USER_TRADES_PATH, [("symbol", instrument), ("orderId", order_id), ("limit", str(MAX_ROWS))]
        )
        trade_rows = self._json(trades_raw, list)
        trades = [parse_model(BinanceTrade, row, trades_raw, self.exchange.slug) for row in trade_rows]
        self._check_trades(order, trades, trades_raw)
        digests[trades_raw.endpoint] = trades_raw.sha256

        penalty = Decimal(0)
        if kind.is_forced_liquidation:
            income_raw = self._get(
                INCOME_PATH,
                [
                    ("symbol", instrument),
                    ("incomeType", "INSURANCE_CLEAR"),
                    *window,
                    ("limit", str(MAX_ROWS)),
                ],
            )
            income_rows = self._json(income_raw, list)
            trade_ids = {str(t.id) for t in trades}
            incomes = [parse_model(BinanceIncome, row, income_raw, self.exchange.slug) for row in income_rows]
            penalty = exact_sum(i.income for i in incomes if i.trade_id in trade_ids)
            digests[income_raw.endpoint] = income_raw.sha256

        realized = exact_sum(t.realized_pnl for t in trades)
        # Commission is a cost whichever sign the endpoint uses for it (the docs show both).
        fees = -exact_sum(abs(t.commission) for t in trades)
        return LiquidationEvidence(
            exchange=self.exchange,
            order_id=str(order.order_id),
            instrument=order.symbol,
            liquidation=kind,
            liquidation_time_ms=order.update_time,
            filled_size=order.executed_qty,
            average_price=order.avg_price,
            realized_pnl=realized,
            fees=fees,
            liquidation_penalty=penalty,
            settlement_currency=trades[0].commission_asset if trades else "USDT",
            loss=loss_from(realized, fees, penalty),
            response_digests=digests,
        )

    def _check_trades(self, order: BinanceOrder, trades: list[BinanceTrade], raw: RawResponse) -> None:
        if len(trades) >= MAX_ROWS:
            raise self._inconsistent(raw, f"{len(trades)} trades: paging is not supported, review by hand")
        foreign = [t.id for t in trades if t.order_id != order.order_id]
        if foreign:
            raise self._inconsistent(raw, f"trades {foreign} belong to another order")
        filled = exact_sum(t.qty for t in trades)
        if filled != order.executed_qty:
            raise self._inconsistent(
                raw, f"trades add up to {filled}, order says executedQty {order.executed_qty}"
            )

    def _get(self, path: str, params: list[tuple[str, str]]) -> RawResponse:
        weight = WEIGHTS[path]
        if self.weight_gate is not None:
            try:
                self.weight_gate.wait_for(weight, self.max_gate_wait_seconds)
            except LimiterTimeoutError as exc:
                raise RateLimitedError(self.exchange.slug, f"GET {path}", str(exc)) from None
        timestamp_ms = int(self._clock().timestamp() * 1000)
        query = urlencode(
            [*params, ("recvWindow", str(self.recv_window_ms)), ("timestamp", str(timestamp_ms))]
        )
        signed = f"{query}&signature={binance_signature(query, self._credentials.secret.get_secret_value())}"
        headers = {"X-MBX-APIKEY": self._credentials.api_key.get_secret_value(), "Accept": "application/json"}
        raw = self._transport.get(path, signed, headers, WEIGHT_KEY, weight)
        used = raw.headers.get(USED_WEIGHT_HEADER)
        if self.weight_gate is not None and used is not None and used.isdigit():
            self.weight_gate.observe(int(used))
        return raw

    def _json(self, raw: RawResponse, shape: type[dict[Any, Any]] | type[list[Any]]) -> Any:
        slug = self.exchange.slug
        try:
            body = parse_json(raw, slug)
        except MalformedResponseError as exc:
            if raw.status >= 500 or raw.status in (418, 429):
                raise _status_error(raw, slug) from None
            raise self._transport.save_malformed(exc) from None
        if isinstance(body, dict) and "code" in body and "msg" in body and raw.status != 200:
            error = parse_model(BinanceError, body, raw, slug)
            raise _error_for(raw, slug, error)
        if raw.status != 200:
            raise (
                _status_error(raw, slug)
                if raw.status >= 500 or raw.status in (418, 429)
                else self._malformed(raw, f"HTTP {raw.status} without an error body")
            )
        if not isinstance(body, shape):
            raise self._malformed(raw, f"expected a JSON {shape.__name__}, got {type(body).__name__}")
        return body

    def _inconsistent(self, raw: RawResponse, detail: str) -> InconsistentEvidenceError:
        error = InconsistentEvidenceError(self.exchange.slug, raw.endpoint, detail, raw.body)
        self._transport.save_malformed(error)
        return error


def _status_error(raw: RawResponse, slug: str) -> TransientError:
    if raw.status in (418, 429):
        return RateLimitedError(slug, raw.endpoint, f"HTTP {raw.status}")
    return TransientError(slug, raw.endpoint, f"HTTP {raw.status}")


def _error_for(raw: RawResponse, slug: str, error: BinanceError) -> Exception:
    detail = f"HTTP {raw.status} code {error.code}: {error.msg}"
    if error.code in NOT_FOUND_CODES:
        return OrderNotFoundError(slug, raw.endpoint, detail)
    if error.code in AUTH_CODES:
        return AuthenticationError(slug, raw.endpoint, detail)
    if error.code in RATE_LIMIT_CODES or raw.status in (418, 429):
        return RateLimitedError(slug, raw.endpoint, detail)
    if error.code in TRANSIENT_CODES or raw.status >= 500:
        return TransientError(slug, raw.endpoint, detail)
    return MalformedResponseError(slug, raw.endpoint, detail, raw.body)
