"""Bybit v5 adapter (linear USDT/USDC contracts; inverse ones are reported in their coin, the policy rejects
them): the order from order history, cross-checked with its executions, the loss from the transaction log.

The rules below are Bybit's, from https://bybit-exchange.github.io/docs/v5/ (repo ``bybit-exchange/docs``):

- ``GET /v5/order/history`` ("Get Order History (2 years)"): orders of the last 7 days in every status, older
  ones only when filled; ``startTime``/``endTime`` "must be passed together", 7 days by default and at most;
  ``limit`` 1-50, ``cursor``. A liquidation always has fills, so the order is kept ``RETENTION_MS`` (2 years,
  taken as 730 days). The order's ``createType`` names the liquidation: ``CreateByLiq`` laddered (partial),
  ``CreateByTakeOver_PassThrough`` takeover by the liquidation engine at the bankruptcy price (full),
  ``CreateByAdl_PassThrough`` auto-deleveraging; anything else is not a liquidation. The history is asked in
  the claim's span; an order not there is looked up by its executions (below), which place it in time even
  when the claim was filed too late, so the policy can say so (CLAIM_WINDOW_EXPIRED) instead of "not found".
  Absent from both while the span is inside the 2 years (less a day): ORDER_NOT_FOUND; else ``aged_out``.
- ``GET /v5/execution/list`` ("Get Trade History (2 years)"): with ``orderId`` the other filters are ignored;
  windows of at most 7 days (we send them anyway, around the order). ``execType`` ``BustTrade`` is a takeover
  fill, ``AdlTrade`` an ADL fill; ``execQty`` adds up to the order's ``cumExecQty`` and ``execFee`` to its
  ``cumExecFee``; ``execFee`` is positive for a charge (negative: a maker rebate); ``execTime`` is the trade.
- ``GET /v5/account/transaction-log`` (unified account, "up to 2 years"): one row per trade with ``orderId``
  and ``tradeId``; ``cashFlow`` is the realised P&L of closing "not including trading fee, funding fee",
  ``fee`` is "positive ... expense, negative ... rebates", and ``change = cashFlow + funding - fee``. Windows
  of at most 7 days (default 7 days); ``limit`` 1-50, ``cursor``. It has no order filter: rows are matched by
  ``orderId`` client-side.

Why the transaction log and not ``GET /v5/position/closed-pnl``: closed-pnl's page does not say whether
``closedPnl`` is net of ``openFee``/``closeFee`` (only the help centre does), and one of its rows may cover
fills of several orders; the transaction log documents its arithmetic (``change``), separates the fee from the
P&L, and names the trade each row belongs to, which we cross-check against the executions. So the loss is
``-(sum cashFlow - sum fee)``: the fee is counted once, from the executions, signed as the balance (Bybit's
positive expense becomes a negative amount here). The funding of a row is not part of the liquidation and is
left out. Bybit has no separate liquidation-penalty row: a takeover closes at the bankruptcy price and its
whole effect is in ``cashFlow``, so the penalty is 0.

Margin mode: none of these answers reports it (a unified account's mode is account-wide), and the loss does
not depend on it here, so the evidence says ``not_reported``.

Category and settlement coin from the symbol (``category_of``): ``…USDT`` (also dated ``…USDT-26DEC25``) is
linear in USDT; ``…USDC``, ``…PERP`` (USDC perpetuals such as ``ETHPERP``) and dated USDC futures
``BTC-26DEC25`` are linear in USDC; ``…USD`` and inverse futures ``…USD`` + month code + year (``BTCUSDZ25``)
are inverse, settled in the base coin. Anything else is not a contract we can look up: a person decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlencode

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ConfigDict

from keeper.evidence import EXACT, LiquidationEvidence, LiquidationKind, ReviewCause, exact_sum, loss_from
from keeper.exchanges.base import (
    ExchangeAdapter,
    OrderQuery,
    Transport,
    WireDecimal,
    WireModel,
    parse_json,
    parse_model,
    time_windows,
)
from keeper.exchanges.errors import (
    AuthenticationError,
    ClockSkewError,
    InconsistentEvidenceError,
    MalformedResponseError,
    NeedsReviewError,
    OrderNotFoundError,
    RateLimitedError,
    TransientError,
)
from keeper.exchanges.limits import EndpointRate, LimiterNeed
from keeper.exchanges.transport import RawResponse
from keeper.interface import Exchange
from keeper.settings import AccountCredentials

ORDER_HISTORY_PATH = "/v5/order/history"
EXECUTIONS_PATH = "/v5/execution/list"
TRANSACTION_LOG_PATH = "/v5/account/transaction-log"
TIME_PATH = "/v5/market/time"

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RETENTION_MS = 730 * DAY_MS
"""Order history, trade history and the transaction log keep two years (their pages' titles) of orders with
fills, which every liquidation is."""
RETENTION_MARGIN_MS = DAY_MS
"""Kept off the retention limit: our clock against Bybit's, and "2 years" rounding at Bybit's end."""
MAX_WINDOW_MS = 7 * DAY_MS - 1
"""Longest startTime..endTime span we send ("endTime - startTime <= 7 days")."""
ORDER_SLACK_MS = HOUR_MS
"""History windows start this much before the claim's span: an order is created before it fills."""
LOG_SLACK_MS = 60_000
"""The transaction-log rows of a trade are posted at its ``execTime``; the window is this much wider."""
ORDER_PAGE_LIMIT = 50
EXECUTION_PAGE_LIMIT = 100
LOG_PAGE_LIMIT = 50
MAX_PAGES = 20
"""Pages read per look-up; more goes to a person rather than on for ever."""

RATE_PER_UID = EndpointRate(50, 1000)
"""Per-UID limit of order/history, execution/list and transaction-log (rate-limit page: 50 req/s)."""
IP_LIMIT_PER_5S = 600
"""Bybit's per-IP limit: over 600 requests in 5 s the IP is banned (403) for at least 10 minutes."""
IP_MARGIN = 0.9
"""The share of the IP limit the keeper uses: a breach costs 10 minutes, and the exchange counts arrivals,
which bunch up on the way (the limiter counts grants)."""
IP_RATE = EndpointRate(int(IP_LIMIT_PER_5S * IP_MARGIN), 5000)
IP_KEY = "market/time|ip"
"""Every request takes a unit of it (the transport's ``ip_limiter_key``), the server-time reads included."""
RATES: dict[str, EndpointRate] = {
    "order/history": RATE_PER_UID,
    "execution/list": RATE_PER_UID,
    "account/transaction-log": RATE_PER_UID,
    "market/time": IP_RATE,
}
DEFAULT_RATE = EndpointRate(10, 1000)

AUTH_CODES = frozenset({10003, 10004, 10005, 10010})
"""Invalid key, bad signature, permission denied, unmatched IP: an operator must look."""
RATE_LIMIT_CODES = frozenset({10006, 10018})
CLOCK_SKEW_CODE = 10002
TRANSIENT_CODES = frozenset({10000, 10016})
"""Server timeout / internal error."""
PARAMETER_ERROR_CODE = 10001
ORDER_NOT_FOUND_CODE = 110001

CREATE_TYPE_KIND = {
    "CreateByLiq": LiquidationKind.PARTIAL,
    "CreateByTakeOver_PassThrough": LiquidationKind.FULL,
    "CreateByAdl_PassThrough": LiquidationKind.ADL,
}
# The execTypes each kind of order may fill with: a takeover fills as BustTrade, an ADL as AdlTrade; a
# laddered liquidation order is placed in the market (no page says its fills are BustTrade: both are read).
EXEC_TYPES: dict[LiquidationKind, frozenset[str]] = {
    LiquidationKind.FULL: frozenset({"BustTrade"}),
    LiquidationKind.PARTIAL: frozenset({"Trade", "BustTrade"}),
    LiquidationKind.ADL: frozenset({"AdlTrade"}),
    LiquidationKind.NONE: frozenset({"Trade"}),
}
LOG_TYPES: dict[LiquidationKind, frozenset[str]] = {
    LiquidationKind.FULL: frozenset({"LIQUIDATION", "TRADE"}),
    LiquidationKind.PARTIAL: frozenset({"LIQUIDATION", "TRADE"}),
    LiquidationKind.ADL: frozenset({"ADL", "TRADE"}),
    LiquidationKind.NONE: frozenset({"TRADE"}),
}
MARGIN_MODE = "not_reported"

_URL_SAFE = re.compile(r"[A-Za-z0-9%._~-]+")
_DATED_USDC = re.compile(r"^[A-Z0-9]+-\d{1,2}[A-Z]{3}\d{2}$")
_INVERSE = re.compile(r"^([A-Z0-9]+?)USD(?:[FGHJKMNQUVXZ]\d{2})?$")
RowT = TypeVar("RowT", bound=BaseModel)


def category_of(symbol: str) -> tuple[str, str] | None:
    """(category, settlement coin) of a Bybit contract symbol; None when it is no linear/inverse contract."""
    upper = symbol.upper()
    pair = upper.split("-", 1)[0]
    if pair.endswith("USDT") and len(pair) > 4:
        return "linear", "USDT"
    if (pair.endswith("USDC") and len(pair) > 4) or (pair.endswith("PERP") and len(pair) > 4):
        return "linear", "USDC"
    if _DATED_USDC.match(upper):
        return "linear", "USDC"
    found = _INVERSE.match(upper)
    if found:
        return "inverse", found.group(1)
    return None


def sign_payload(timestamp: str, api_key: str, recv_window: str, query: str) -> str:
    """What a GET signs: ``timestamp + apiKey + recvWindow + queryString``."""
    return f"{timestamp}{api_key}{recv_window}{query}"


def hmac_signature(payload: str, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 (a system-generated API key)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """The RSA private key of a self-generated API key; ``ValueError`` (never echoing the key) otherwise."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("private_key_pem is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"private_key_pem holds a {type(key).__name__.lstrip('_')}, not an RSA key")
    return key


def rsa_signature(payload: str, key: rsa.RSAPrivateKey) -> str:
    """Base64 RSA-SHA256 (PKCS#1 v1.5) signature (a self-generated RSA API key)."""
    return base64.b64encode(key.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


class BybitEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ret_code: int
    ret_msg: str = ""
    result: Any = None
    time: int | None = None

    @classmethod
    def of(cls, body: object) -> object:
        if isinstance(body, dict):
            return {
                "ret_code": body.get("retCode"),
                "ret_msg": body.get("retMsg", ""),
                "result": body.get("result"),
                "time": body.get("time"),
            }
        return body


class BybitOrder(WireModel):
    order_id: str
    symbol: str
    order_status: str = ""
    create_type: str = ""
    avg_price: WireDecimal
    cum_exec_qty: WireDecimal
    cum_exec_fee: WireDecimal
    created_time: int
    updated_time: int


class BybitExecution(WireModel):
    symbol: str
    order_id: str
    exec_id: str
    exec_type: str
    exec_qty: WireDecimal
    exec_price: WireDecimal
    exec_fee: WireDecimal
    fee_currency: str = ""
    exec_time: int
    create_type: str = ""


class BybitLogRow(WireModel):
    symbol: str
    type: str
    currency: str
    cash_flow: WireDecimal
    fee: WireDecimal
    funding: WireDecimal = Decimal(0)
    change: WireDecimal
    order_id: str
    trade_id: str = ""
    transaction_time: int


class BybitAdapter(ExchangeAdapter):
    exchange: ClassVar[Exchange] = Exchange.BYBIT
    retention_ms: ClassVar[int] = RETENTION_MS

    def __init__(
        self,
        credentials: AccountCredentials,
        transport: Transport,
        clock: Callable[[], datetime] | None = None,
        *,
        recv_window_ms: int = 5000,
    ) -> None:
        super().__init__(credentials, transport, clock)
        self.recv_window_ms = recv_window_ms
        pem = credentials.private_key_pem
        self._private_key = load_private_key(pem.get_secret_value()) if pem is not None else None

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        """order/history and execution/list, both per UID, and the two units of the IP limit they take:
        every look-up reads the order and its fills."""
        return (
            LimiterNeed(self._limiter_key("order/history")),
            LimiterNeed(self._limiter_key("execution/list")),
            LimiterNeed(IP_KEY, 2),
        )

    def fetch_evidence(self, query: OrderQuery) -> LiquidationEvidence:
        contract = category_of(query.instrument)
        if contract is None:
            raise NeedsReviewError(
                self.exchange.slug,
                f"GET {ORDER_HISTORY_PATH}",
                ReviewCause.INCONSISTENT_EVIDENCE,
                f"symbol {query.instrument!r} names no Bybit linear or inverse contract: no category to ask",
            )
        category, settlement = contract
        order, _ = self._order(query, category)
        kind = CREATE_TYPE_KIND.get(order.create_type, LiquidationKind.NONE)
        executions, executions_raw = self._executions(order, category)
        self._check_executions(kind, order, executions, executions_raw)
        fee_currencies = {e.fee_currency for e in executions if e.fee_currency}
        if len(fee_currencies) > 1:
            raise NeedsReviewError(
                self.exchange.slug,
                executions_raw.endpoint,
                ReviewCause.FEE_CURRENCY,
                f"order {order.order_id} paid fees in {', '.join(sorted(fee_currencies))}",
            )
        fee_currency = fee_currencies.pop() if fee_currencies else settlement
        # execFee is positive for a charge: the balance moved the other way.
        fees = EXACT.minus(exact_sum(e.exec_fee for e in executions))
        liquidated_at = max((e.exec_time for e in executions), default=order.updated_time)
        realized = self._realized_pnl(order, kind, category, settlement, executions)
        return LiquidationEvidence(
            exchange=self.exchange,
            order_id=order.order_id,
            instrument=order.symbol,
            liquidation=kind,
            liquidation_time_ms=liquidated_at,
            filled_size=order.cum_exec_qty,
            average_price=order.avg_price,
            realized_pnl=realized,
            fees=fees,
            liquidation_penalty=Decimal(0),
            settlement_currency=settlement,
            settlement_source="symbol",  # category_of: the contract family its symbol names
            fee_currency=fee_currency,
            penalty_currency=settlement,
            loss=loss_from(realized, fees if fee_currency == settlement else Decimal(0), Decimal(0)),
            margin_mode=MARGIN_MODE,
        )

    # ------------------------------------------------------------------------------------------ the order

    def _order(self, query: OrderQuery, category: str) -> tuple[BybitOrder, RawResponse]:
        """The order's history row: first in the claim's span; when it is not there, its executions (asked by
        orderId, which Bybit answers whatever the window) say whether and when it traded, and the history is
        asked again around them. Only an order with neither is absent."""
        start = max(0, query.not_before_ms - ORDER_SLACK_MS)
        found, raw = self._order_in(query, category, start, query.not_after_ms)
        if found is not None:
            return found, raw
        params = [
            ("category", category),
            ("symbol", query.instrument),
            ("orderId", query.order_id),
            ("startTime", str(start)),
            ("endTime", str(min(query.not_after_ms, start + MAX_WINDOW_MS))),
            ("limit", str(EXECUTION_PAGE_LIMIT)),
        ]
        rows, probe = self._rows(EXECUTIONS_PATH, "execution/list", params, EXECUTION_PAGE_LIMIT, True)
        traded = [parse_model(BybitExecution, row, probe, self.exchange.slug) for row in rows]
        traded = [e for e in traded if e.order_id == query.order_id]
        if not traded:
            raise self._not_found(query, probe, start)
        first, last = min(e.exec_time for e in traded), max(e.exec_time for e in traded)
        found, raw = self._order_in(query, category, max(0, first - ORDER_SLACK_MS), last)
        if found is None:
            raise self._inconsistent(
                raw,
                f"order {query.order_id} has executions at {first}..{last}, no order-history row around them",
            )
        return found, raw

    def _order_in(
        self, query: OrderQuery, category: str, start: int, end: int
    ) -> tuple[BybitOrder | None, RawResponse]:
        """The order's row among those created in ``start..end`` (7-day windows), or None; the last answer."""
        raw: RawResponse | None = None
        for window_start, window_end in time_windows(start, end, MAX_WINDOW_MS):
            params = [
                ("category", category),
                ("symbol", query.instrument),
                ("orderId", query.order_id),
                ("startTime", str(window_start)),
                ("endTime", str(window_end)),
                ("limit", str(ORDER_PAGE_LIMIT)),
            ]
            rows, raw = self._rows(ORDER_HISTORY_PATH, "order/history", params, ORDER_PAGE_LIMIT, True)
            for row in rows:
                order = parse_model(BybitOrder, row, raw, self.exchange.slug)
                if order.order_id != query.order_id or order.symbol != query.instrument:
                    raise self._inconsistent(
                        raw,
                        f"asked for {query.order_id}/{query.instrument}, got {order.order_id}/{order.symbol}",
                    )
                if order.updated_time < order.created_time:
                    raise self._inconsistent(
                        raw, f"updatedTime {order.updated_time} before createdTime {order.created_time}"
                    )
                return order, raw
        assert raw is not None  # time_windows yields at least one window
        return None, raw

    def _not_found(self, query: OrderQuery, raw: RawResponse, start: int) -> Exception:
        # The answer's own arrival time, not a fresh clock reading: a replay sees exactly the same number.
        now = self.answers[-1].observed_at_ms
        age = now - start
        detail = (
            f"order {query.order_id} of {query.instrument} is in no order-history window of "
            f"{start}..{query.not_after_ms} and has no execution"
        )
        if age <= RETENTION_MS - RETENTION_MARGIN_MS:
            return OrderNotFoundError(
                self.exchange.slug,
                raw.endpoint,
                f"{detail} (the span starts {age // DAY_MS} days ago, inside the 2 years Bybit keeps every "
                "order with fills)",
            )
        return NeedsReviewError(
            self.exchange.slug,
            raw.endpoint,
            ReviewCause.AGED_OUT,
            f"{detail}; the span starts {age // DAY_MS} days ago, past the 2 years (less a "
            f"{RETENTION_MARGIN_MS // DAY_MS}-day margin) order history keeps: absence proves nothing",
        )

    # ------------------------------------------------------------------------------------------ the fills

    def _executions(self, order: BybitOrder, category: str) -> tuple[list[BybitExecution], RawResponse]:
        # With orderId Bybit ignores the other filters: an order alive longer than one window may come back in
        # each; identical rows are one execution, differing rows under one execId are a contradiction.
        executions: dict[str, BybitExecution] = {}
        raw: RawResponse | None = None
        for window_start, window_end in time_windows(
            max(0, order.created_time - LOG_SLACK_MS), order.updated_time + LOG_SLACK_MS, MAX_WINDOW_MS
        ):
            params = [
                ("category", category),
                ("symbol", order.symbol),
                ("orderId", order.order_id),
                ("startTime", str(window_start)),
                ("endTime", str(window_end)),
                ("limit", str(EXECUTION_PAGE_LIMIT)),
            ]
            rows, raw = self._rows(EXECUTIONS_PATH, "execution/list", params, EXECUTION_PAGE_LIMIT)
            for row in rows:
                execution = parse_model(BybitExecution, row, raw, self.exchange.slug)
                seen = executions.setdefault(execution.exec_id, execution)
                if seen != execution:
                    raise self._inconsistent(
                        raw, f"execution {execution.exec_id} differs between two answers"
                    )
        assert raw is not None
        return list(executions.values()), raw

    def _check_executions(
        self, kind: LiquidationKind, order: BybitOrder, executions: list[BybitExecution], raw: RawResponse
    ) -> None:
        foreign = [e.exec_id for e in executions if e.order_id != order.order_id or e.symbol != order.symbol]
        if foreign:
            raise self._inconsistent(raw, f"executions {foreign} belong to another order")
        allowed = EXEC_TYPES[kind]
        for execution in executions:
            if execution.exec_type not in allowed:
                raise self._inconsistent(
                    raw,
                    f"order {order.order_id} has createType {order.create_type!r} but execution "
                    f"{execution.exec_id} has execType {execution.exec_type!r}",
                )
            if execution.create_type and execution.create_type != order.create_type:
                raise self._inconsistent(
                    raw,
                    f"execution {execution.exec_id} says createType {execution.create_type!r}, the order "
                    f"{order.create_type!r}",
                )
        if kind is not LiquidationKind.NONE and not executions:
            raise self._inconsistent(raw, f"{order.create_type} order {order.order_id} has no executions")
        filled = exact_sum(e.exec_qty for e in executions)
        if filled != order.cum_exec_qty:
            raise self._inconsistent(
                raw, f"executions add up to {filled}, order says cumExecQty {order.cum_exec_qty}"
            )
        fees = exact_sum(e.exec_fee for e in executions)
        if fees != order.cum_exec_fee:
            raise self._inconsistent(
                raw, f"execution fees add up to {fees}, order says cumExecFee {order.cum_exec_fee}"
            )

    # ------------------------------------------------------------------------------------------ the loss

    def _realized_pnl(
        self,
        order: BybitOrder,
        kind: LiquidationKind,
        category: str,
        settlement: str,
        executions: list[BybitExecution],
    ) -> Decimal:
        """Sum of ``cashFlow`` of the order's transaction-log rows, each row checked against its execution."""
        if not executions:
            return Decimal(0)
        start = min(e.exec_time for e in executions) - LOG_SLACK_MS
        end = max(e.exec_time for e in executions) + LOG_SLACK_MS
        mine: list[BybitLogRow] = []
        raw: RawResponse | None = None
        for window_start, window_end in time_windows(max(0, start), end, MAX_WINDOW_MS):
            params = [
                ("accountType", "UNIFIED"),
                ("category", category),
                ("currency", settlement),
                ("startTime", str(window_start)),
                ("endTime", str(window_end)),
                ("limit", str(LOG_PAGE_LIMIT)),
            ]
            rows, raw = self._rows(TRANSACTION_LOG_PATH, "account/transaction-log", params, LOG_PAGE_LIMIT)
            for value in rows:
                row = parse_model(BybitLogRow, value, raw, self.exchange.slug)
                if row.order_id == order.order_id:
                    mine.append(row)
        assert raw is not None
        if not mine:
            raise self._inconsistent(
                raw, f"filled order {order.order_id} has no transaction-log row in {start}..{end}"
            )
        exec_ids = {e.exec_id for e in executions}
        for row in mine:
            if row.symbol != order.symbol or row.currency != settlement:
                raise self._inconsistent(
                    raw,
                    f"log row of order {order.order_id} is {row.symbol}/{row.currency}, "
                    f"expected {order.symbol}/{settlement}",
                )
            if row.type not in LOG_TYPES[kind]:
                raise self._inconsistent(
                    raw, f"log row type {row.type!r} for a {order.create_type or 'regular'} order"
                )
            if row.trade_id and row.trade_id not in exec_ids:
                raise self._inconsistent(raw, f"log row names trade {row.trade_id}, not an execution of it")
            expected_change = exact_sum((row.cash_flow, row.funding, EXACT.minus(row.fee)))
            if row.change != expected_change:
                raise self._inconsistent(
                    raw,
                    f"log row change {row.change} != cashFlow {row.cash_flow} + funding {row.funding} - fee "
                    f"{row.fee}",
                )
        log_fees = exact_sum(row.fee for row in mine)
        exec_fees = exact_sum(e.exec_fee for e in executions if (e.fee_currency or settlement) == settlement)
        if log_fees != exec_fees:
            raise self._inconsistent(
                raw, f"log fees add up to {log_fees}, executions' execFee to {exec_fees}"
            )
        return exact_sum(row.cash_flow for row in mine)

    # ------------------------------------------------------------------------------------------ the wire

    def _rows(
        self,
        path: str,
        endpoint_key: str,
        params: list[tuple[str, str]],
        page_limit: int,
        tolerate_not_found: bool = False,
    ) -> tuple[list[Any], RawResponse]:
        """Every row of ``list`` over the pages of one request (``cursor``), and the last answer."""
        rows: list[Any] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            raw = self._get(path, params, endpoint_key, cursor)
            result = self._result(raw, tolerate_not_found)
            if result is None:
                return rows, raw
            page = result.get("list")
            if not isinstance(page, list):
                raise self._malformed(raw, f"result.list is {type(page).__name__}, not a list")
            rows += page
            cursor = result.get("nextPageCursor") or ""
            if not isinstance(cursor, str):
                raise self._malformed(raw, "nextPageCursor is not a string")
            if len(page) < page_limit or not cursor:
                return rows, raw
        raise NeedsReviewError(
            self.exchange.slug,
            f"GET {path}",
            ReviewCause.INCONSISTENT_EVIDENCE,
            f"more than {MAX_PAGES * page_limit} rows in one window: paging stopped",
        )

    def _get(
        self, path: str, params: list[tuple[str, str]], endpoint_key: str, cursor: str = ""
    ) -> RawResponse:
        creds = self._credentials
        recv_window = str(self.recv_window_ms)
        private_key = self._private_key

        def sign(query: str) -> tuple[str, Mapping[str, str]]:
            # Called per attempt: every retry carries a fresh timestamp from the (server-corrected) clock.
            api_key = creds.api_key.get_secret_value()
            timestamp = str(self.now_ms())
            payload = sign_payload(timestamp, api_key, recv_window, query)
            signature = (
                rsa_signature(payload, private_key)
                if private_key is not None
                else hmac_signature(payload, creds.secret.get_secret_value())
            )
            headers = {
                "X-BAPI-API-KEY": api_key,
                "X-BAPI-TIMESTAMP": timestamp,
                "X-BAPI-RECV-WINDOW": recv_window,
                "X-BAPI-SIGN": signature,
                "Accept": "application/json",
            }
            return query, headers

        query = urlencode(params)
        if cursor:
            # nextPageCursor comes URL-encoded ("page_token%3D39380%26"): sent back as it came, as Bybit's own
            # SDKs do; anything that is not already URL-safe is encoded.
            query += "&cursor=" + (cursor if _URL_SAFE.fullmatch(cursor) else quote(cursor, safe=""))
        return self._fetch(path, query, sign, self._limiter_key(endpoint_key))

    def _limiter_key(self, endpoint_key: str) -> str:
        # Limits are per UID and endpoint: one bucket per (endpoint, key) — an API key belongs to one UID.
        user = hashlib.sha256(self._credentials.api_key.get_secret_value().encode()).hexdigest()[:12]
        return f"{endpoint_key}|{user}"

    def _result(self, raw: RawResponse, tolerate_not_found: bool) -> dict[str, Any] | None:
        """``result`` of a successful answer; None for a tolerated "order does not exist"; errors raise."""
        slug = self.exchange.slug
        if raw.status == 403:
            raise RateLimitedError(slug, raw.endpoint, "HTTP 403: access too frequent (IP limit)")
        try:
            body = parse_json(raw, slug)
        except MalformedResponseError as exc:
            if raw.status >= 500:
                raise TransientError(slug, raw.endpoint, f"HTTP {raw.status}") from None
            if raw.status == 429:
                raise RateLimitedError(slug, raw.endpoint, "HTTP 429") from None
            raise self._transport.save_malformed(exc) from None
        envelope = parse_model(BybitEnvelope, BybitEnvelope.of(body), raw, slug)
        code, detail = envelope.ret_code, f"HTTP {raw.status} retCode {envelope.ret_code}: {envelope.ret_msg}"
        if code == ORDER_NOT_FOUND_CODE and tolerate_not_found:
            return None
        if code in AUTH_CODES:
            raise AuthenticationError(slug, raw.endpoint, detail)
        if code in RATE_LIMIT_CODES or raw.status == 429:
            raise RateLimitedError(slug, raw.endpoint, detail)
        if code == CLOCK_SKEW_CODE:
            raise ClockSkewError(slug, raw.endpoint, detail)
        if code in TRANSIENT_CODES or raw.status >= 500:
            raise TransientError(slug, raw.endpoint, detail)
        if code == ORDER_NOT_FOUND_CODE:
            # The order was found a step earlier: "does not exist" now contradicts it.
            raise self._inconsistent(raw, detail)
        # 10001 (a parameter refused: our request or their rules changed), anything unknown: a person.
        if code != 0 or raw.status != 200:
            raise self._malformed(raw, detail)
        if not isinstance(envelope.result, dict):
            raise self._malformed(raw, f"result is {type(envelope.result).__name__}, not an object")
        return envelope.result

    def _inconsistent(self, raw: RawResponse, detail: str) -> InconsistentEvidenceError:
        error = InconsistentEvidenceError(self.exchange.slug, raw.endpoint, detail, raw.body)
        self._transport.save_malformed(error)
        return error


def server_time(body: bytes) -> int:
    """``GET /v5/market/time``: ``{"retCode":0,"result":{"timeSecond":"…","timeNano":"…"},"time":…}`` → ms."""
    data = json.loads(body)
    result = data.get("result") or {}
    if result.get("timeNano"):
        return int(result["timeNano"]) // 1_000_000
    if result.get("timeSecond"):
        return int(result["timeSecond"]) * 1000
    return int(data["time"])
