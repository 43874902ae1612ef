"""Binance USD-M futures adapter: the order, cross-checked with forceOrders, priced with userTrades, penalised
with INSURANCE_CLEAR income rows — every history read inside an explicit window the docs allow.

The rules below are Binance's, from https://developers.binance.com/docs/derivatives/usds-margined-futures/:

- Query Order (``GET /fapi/v1/order``) answers -2013 for an order created more than 90 days ago, and for one
  canceled/expired *without fills* more than 3 days ago; -1121 for a symbol it does not serve (delisted or
  disabled). Only orders with fills can be liquidations, so a -2013 proves "no such order" only while the
  whole claim span is inside the 90 days (less ``RETENTION_MARGIN_MS``); otherwise a person decides.
- Account Trade List (``GET /fapi/v1/userTrades``): without ``startTime``/``endTime`` only the last 7 days;
  a span is at most 7 days; only the past 6 months. We always send a window around the order.
- User's Force Orders and Income History: without times only the last 7 days (forceOrders: 7 days before
  ``endTime``); income keeps 3 months; forceOrders 90 days. We send windows shorter than 7 days.
- ``commission`` in userTrades is signed as its effect on the balance, like ``realizedPnl`` (the USD-M
  example shows a charge as ``"-0.07819010"``; the income endpoint's COMMISSION rows use the same sign): a
  positive commission is a rebate and counts as income. ``commissionAsset`` may be BNB.
- USD-M contracts settle in the symbol's margin asset, which is its quote: ``…USDT`` in USDT, ``…USDC`` in
  USDC (exchangeInfo's ``marginAsset``; we derive it from the symbol rather than fetch the weight-1 but very
  large exchangeInfo answer for every claim).

Request weight (per IP per minute): Query Order 1, userTrades 5, forceOrders 20 with a symbol (50 without),
income 30. Calls go cheapest-first and only as far as the verdict needs: a non-liquidation reads the order and
its trades; an ADL adds forceOrders; a forced liquidation adds income, then forceOrders (read last, so that
every forced order that could own an income row is in sight). Income and forceOrders are read in UTC-day
windows that serve every claim of the account (income: of every symbol, which costs the same 30) and day
that the keeper had seen before the read began, or whose window had closed by then
(``keeper.exchanges.binance_windows``); each claim records the shared answer among its own. A read begun
after the keeper saw a claim is one it could have made for that claim at once: the claim was on chain, so
filed, before then (``OrderQuery.known_since_ms``). A backlog seen in one pass thus reads each day once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from keeper.evidence import LiquidationEvidence, LiquidationKind, ReviewCause, exact_sum, loss_from
from keeper.exchanges.answers import RawAnswer, request_key
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
from keeper.exchanges.binance_windows import (
    MAX_SHARED_CELLS,
    SETTLE_MS,
    SharedAnswers,
    account_key,
    grid_cells,
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
from keeper.exchanges.limits import EndpointRate, LimiterNeed, LimiterTimeoutError, UsedWeightGate
from keeper.exchanges.transport import RawResponse
from keeper.interface import Exchange
from keeper.settings import AccountCredentials

ORDER_PATH = "/fapi/v1/order"
ALL_ORDERS_PATH = "/fapi/v1/allOrders"
FORCE_ORDERS_PATH = "/fapi/v1/forceOrders"
USER_TRADES_PATH = "/fapi/v1/userTrades"
INCOME_PATH = "/fapi/v1/income"
TIME_PATH = "/fapi/v1/time"

# Request weight of each call (published per endpoint); Binance counts weight per IP per minute.
WEIGHTS = {
    ORDER_PATH: 1,
    ALL_ORDERS_PATH: 5,
    FORCE_ORDERS_PATH: 20,
    USER_TRADES_PATH: 5,
    INCOME_PATH: 30,
    TIME_PATH: 1,
}
WEIGHT_KEY = "binance:weight-1m"
CLAIM_PATHS = (ORDER_PATH, FORCE_ORDERS_PATH, USER_TRADES_PATH, INCOME_PATH)
"""Every endpoint a claim's look-up may call (one window each in the usual case)."""
USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
MAX_ROWS = 1000
MAX_FORCE_ORDERS = 100

DAY_MS = 86_400_000
ORDER_RETENTION_MS = 90 * DAY_MS
"""Query Order / allOrders keep an order with fills for 90 days after its creation."""
TRADE_RETENTION_MS = 180 * DAY_MS
"""userTrades: "only support querying trade in the past 6 months" (taken as 180 days)."""
INCOME_RETENTION_MS = 90 * DAY_MS
"""Income history: "only contains data for the last three months" (taken as 90 days)."""
RETENTION_MARGIN_MS = DAY_MS
"""Kept off every retention limit: our clock against Binance's, an order created before its liquidation fill,
and "3 months" being shorter than 90 days in some months."""
MAX_WINDOW_MS = 7 * DAY_MS - 1
"""Longest startTime..endTime span we send: allOrders wants it "less than 7 days", the others at most 7."""
PENALTY_SLACK_MS = 60 * 60 * 1000
"""How long after an order's ``updateTime`` its INSURANCE_CLEAR row may be posted. Binance documents no bound
(the row's ``tradeId`` is only "if existing"); an hour is our assumption, and a row outside it is not read,
so a late penalty can only underpay, never pay another order's."""

AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
RATE_LIMIT_CODES = frozenset({-1003, -1008, -1015})
TRANSIENT_CODES = frozenset({-1000, -1001, -1007})
CLOCK_SKEW_CODE = -1021
ORDER_NOT_FOUND_CODE = -2013
INVALID_SYMBOL_CODE = -1121

# Margin (= settlement) assets of USD-M symbols, longest first so "…FDUSD" is not read as "…USD".
MARGIN_ASSETS = ("FDUSD", "USDT", "USDC", "BUSD")

LIQUIDATION_PREFIX = "autoclose-"
ADL_CLIENT_ID = "adl_autoclose"


def worst_case_claim_weight() -> int:
    """The weight one claim can cost: every endpoint of ``CLAIM_PATHS`` once (a liquidation whose order,
    trades and penalty each fit one window). What budget-aware admission reserves per claim."""
    return sum(WEIGHTS[path] for path in CLAIM_PATHS)


def weight_rate(limit_per_minute: int, safety_margin: int) -> dict[str, EndpointRate]:
    return {WEIGHT_KEY: EndpointRate(max(1, limit_per_minute - safety_margin), 60_000)}


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


def margin_asset(symbol: str) -> str | None:
    """The asset a USD-M symbol settles in: its quote (``BTCUSDT`` → USDT, ``ETHUSDC`` → USDC, delivery
    ``BTCUSDT_250328`` → USDT); None for a symbol that is not USD-M."""
    pair = symbol.split("_", 1)[0]
    return next((asset for asset in MARGIN_ASSETS if pair.endswith(asset) and len(pair) > len(asset)), None)


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


class TimedRow(WireModel):
    """A history row: ``time`` is when Binance posted it (what startTime/endTime select on)."""

    time: int


RowT = TypeVar("RowT", bound=TimedRow)


class BinanceForceOrder(TimedRow):
    order_id: int
    symbol: str
    client_order_id: str = ""
    update_time: int


class BinanceTrade(TimedRow):
    id: int
    order_id: int
    symbol: str
    qty: WireDecimal
    realized_pnl: WireDecimal
    commission: WireDecimal
    commission_asset: str
    margin_asset: str | None = None


class BinanceIncome(TimedRow):
    symbol: str
    income_type: str
    income: WireDecimal
    asset: str
    trade_id: str = ""
    tran_id: int | str = ""


class BinanceAdapter(ExchangeAdapter):
    exchange: ClassVar[Exchange] = Exchange.BINANCE
    retention_ms: ClassVar[int] = ORDER_RETENTION_MS

    def __init__(
        self,
        credentials: AccountCredentials,
        transport: Transport,
        clock: Callable[[], datetime] | None = None,
        *,
        recv_window_ms: int = 5000,
        weight_gate: UsedWeightGate | None = None,
        max_gate_wait_seconds: float = 30.0,
        shared_answers: SharedAnswers | None = None,
    ) -> None:
        """``shared_answers``: the store of day-window answers the adapters of all workers share (None: every
        read goes to the wire, as in a replay, which asks the same requests)."""
        super().__init__(credentials, transport, clock)
        self.recv_window_ms = recv_window_ms
        self.weight_gate = weight_gate
        self.max_gate_wait_seconds = max_gate_wait_seconds
        self.shared_answers = shared_answers
        self._account = account_key(credentials.api_key.get_secret_value())
        self._fresh_since_ms = 0
        """When the keeper first saw the current ``fetch_evidence``'s claim, at the latest when the look-up
        began (this adapter's clock): a shared answer read since then is as fresh as a read of the claim's
        own made at once (``OrderQuery.known_since_ms``)."""

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        """The IP-wide weight budget, for the worst case of one claim."""
        return (LimiterNeed(WEIGHT_KEY, worst_case_claim_weight()),)

    def fetch_evidence(self, query: OrderQuery) -> LiquidationEvidence:
        began = self.now_ms()
        self._fresh_since_ms = min(began, query.known_since_ms) if query.known_since_ms else began
        order, order_raw = self._order(query)
        kind = kind_from_client_order_id(order.client_order_id)
        settlement = margin_asset(order.symbol)
        if settlement is None:
            raise self._inconsistent(
                order_raw,
                f"symbol {order.symbol!r} has no USD-M margin asset",
                ReviewCause.INCONSISTENT_EVIDENCE,
            )
        # Cheapest first: the trades (5) settle a non-liquidation and can send a claim to a person before the
        # income (30) and forceOrders (20) calls are spent on it.
        trades = self._trades(order)
        fee_assets = {t.commission_asset for t in trades}
        if len(fee_assets) > 1:
            raise NeedsReviewError(
                self.exchange.slug,
                f"GET {USER_TRADES_PATH}",
                ReviewCause.FEE_CURRENCY,
                f"order {order.order_id} paid commission in {', '.join(sorted(fee_assets))}: no exchange "
                "price converts them to one asset",
            )
        margins = {t.margin_asset for t in trades if t.margin_asset}
        if margins - {settlement}:
            raise self._inconsistent(
                order_raw,
                f"symbol {order.symbol} settles in {settlement}, trades say marginAsset {sorted(margins)}",
                ReviewCause.INCONSISTENT_EVIDENCE,
            )
        fee_currency = fee_assets.pop() if fee_assets else settlement

        penalty, penalty_currency = Decimal(0), settlement
        if kind.is_forced_liquidation:
            incomes = self._penalty_rows(order)
            # Read after the income rows arrived (a shared answer too): a forced order that owns one of
            # them, or was posted meanwhile, is then in sight as a rival, never missed.
            since = max(self._fresh_since_ms, self.answers[-1].observed_at_ms)
            forced = self._force_orders(order, kind, since)
            penalty, penalty_currency = self._penalty(order, trades, forced, incomes, settlement)
        elif kind is not LiquidationKind.NONE:
            self._force_orders(order, kind, self._fresh_since_ms)

        realized = exact_sum(t.realized_pnl for t in trades)
        # Signed like realizedPnl (USD-M docs): negative is a charge, positive a rebate (income).
        fees = exact_sum(t.commission for t in trades)
        # The loss is in the settlement currency only; an amount in another asset is left out of it and the
        # policy sends the claim to a person (fee_currency / penalty_currency say which asset it was).
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
            settlement_currency=settlement,
            fee_currency=fee_currency,
            penalty_currency=penalty_currency,
            loss=loss_from(
                realized,
                fees if fee_currency == settlement else Decimal(0),
                penalty if penalty_currency == settlement else Decimal(0),
            ),
        )

    # ------------------------------------------------------------------------------------------ the order

    def _order(self, query: OrderQuery) -> tuple[BinanceOrder, RawResponse]:
        order_id, instrument = query.order_id, query.instrument
        raw = self._get(ORDER_PATH, [("symbol", instrument), ("orderId", order_id)])
        error = self._error_body(raw)
        if error is not None and error.code == INVALID_SYMBOL_CODE:
            raise NeedsReviewError(
                self.exchange.slug,
                raw.endpoint,
                ReviewCause.INSTRUMENT_NOT_LIVE,
                f"symbol {instrument!r} is not served (code {error.code}: {error.msg}); a delisted symbol's "
                "orders cannot be looked up, so absence proves nothing",
            )
        if error is not None and error.code == ORDER_NOT_FOUND_CODE:
            raise self._not_found(query, raw, error)
        order = parse_model(BinanceOrder, self._json(raw, dict), raw, self.exchange.slug)
        if str(order.order_id) != order_id or order.symbol != instrument:
            raise self._inconsistent(
                raw,
                f"asked for {order_id}/{instrument}, got {order.order_id}/{order.symbol}",
                ReviewCause.INCONSISTENT_EVIDENCE,
            )
        if order.update_time < order.time:
            raise self._inconsistent(
                raw,
                f"updateTime {order.update_time} before time {order.time}",
                ReviewCause.MALFORMED_RESPONSE,
            )
        return order, raw

    def _not_found(self, query: OrderQuery, raw: RawResponse, error: BinanceError) -> Exception:
        # The answer's own arrival time, not a fresh clock reading: a replay sees exactly the same number.
        now = self.answers[-1].observed_at_ms
        age = now - query.not_before_ms
        detail = f"HTTP {raw.status} code {error.code}: {error.msg}"
        if age <= ORDER_RETENTION_MS - RETENTION_MARGIN_MS:
            return OrderNotFoundError(
                self.exchange.slug,
                raw.endpoint,
                f"{detail} (the claim's span starts {age // DAY_MS} days ago, inside the 90 days Binance "
                "keeps every order with fills)",
            )
        return NeedsReviewError(
            self.exchange.slug,
            raw.endpoint,
            ReviewCause.AGED_OUT,
            f"{detail}; the claim's span starts {age // DAY_MS} days ago, past the 90 days (less a "
            f"{RETENTION_MARGIN_MS // DAY_MS}-day margin) Query Order keeps orders: absence proves nothing",
        )

    def _force_orders(
        self, order: BinanceOrder, kind: LiquidationKind, read_since_ms: int
    ) -> list[BinanceForceOrder]:
        """The symbol's forced orders around this one: it must be among them, and the others tell whether an
        INSURANCE_CLEAR row without a trade id can be this order's alone. ``read_since_ms``: a shared answer
        whose read began earlier serves only once the window has closed."""
        adl = kind is LiquidationKind.ADL
        start, end = order.time - PENALTY_SLACK_MS, order.update_time + PENALTY_SLACK_MS
        found, raw = self._history(
            FORCE_ORDERS_PATH,
            [("symbol", order.symbol), ("autoCloseType", "ADL" if adl else "LIQUIDATION")],
            start,
            end,
            MAX_FORCE_ORDERS,
            BinanceForceOrder,
            read_since_ms,
            # The day asks both types (the same weight: one answer then serves liquidation and ADL claims of
            # the symbol), and leaves out only the rows the typed request surely would not return: the docs'
            # clientOrderIds, "autoclose-…" for a liquidation, "adl_autoclose" for an ADL. A row of neither
            # stays a possible rival, which can only send a penalty to a person, never pay a wrong one.
            day_params=[("symbol", order.symbol)],
            mine=(
                (lambda row: not row.client_order_id.startswith(LIQUIDATION_PREFIX))
                if adl
                else (lambda row: row.client_order_id != ADL_CLIENT_ID)
            ),
        )
        forced = [row for row, _ in found]
        if not any(f.order_id == order.order_id and f.symbol == order.symbol for f in forced):
            raise self._inconsistent(
                raw,
                f"clientOrderId {order.client_order_id!r} but order {order.order_id} is not in forceOrders",
                None,
            )
        return forced

    # ------------------------------------------------------------------------------------------ the fills

    def _trades(self, order: BinanceOrder) -> list[BinanceTrade]:
        oldest = self.answers[-1].observed_at_ms - (TRADE_RETENTION_MS - RETENTION_MARGIN_MS)
        if order.time < oldest:
            raise NeedsReviewError(
                self.exchange.slug,
                f"GET {USER_TRADES_PATH}",
                ReviewCause.AGED_OUT,
                f"order {order.order_id} was created at {order.time}, before the 6 months userTrades keeps",
            )
        found, last = self._rows_in_windows(
            USER_TRADES_PATH,
            [("symbol", order.symbol), ("orderId", str(order.order_id))],
            order.time,
            order.update_time,
            MAX_ROWS,
            BinanceTrade,
        )
        trades = [trade for trade, _ in found]
        self._check_trades(order, trades, last)
        return trades

    def _rows_in_windows(
        self,
        path: str,
        params: list[tuple[str, str]],
        start: int,
        end: int,
        limit: int,
        model: type[RowT],
    ) -> tuple[list[tuple[RowT, RawResponse]], RawResponse]:
        """Every row of ``path`` from ``start`` to ``end`` (ms), each with the answer it came in, and the last
        answer: never the endpoint's 7-day default, but explicit windows of the span the endpoint accepts."""
        found: list[tuple[RowT, RawResponse]] = []
        raw: RawResponse | None = None
        for window_start, window_end in time_windows(start, end, MAX_WINDOW_MS):
            raw = self._get(path, _windowed(params, window_start, window_end, limit))
            rows = self._json(raw, list)
            if len(rows) >= limit:
                detail = f"{len(rows)} rows in one window: paging is not supported"
                raise self._inconsistent(raw, detail, None)
            found += [(parse_model(model, row, raw, self.exchange.slug), raw) for row in rows]
        assert raw is not None  # time_windows yields at least one window
        return found, raw

    def _history(
        self,
        path: str,
        params: list[tuple[str, str]],
        start: int,
        end: int,
        limit: int,
        model: type[RowT],
        read_since_ms: int,
        *,
        day_params: list[tuple[str, str]] | None = None,
        mine: Callable[[RowT], bool] = lambda row: True,
    ) -> tuple[list[tuple[RowT, RawResponse]], RawResponse]:
        """``_rows_in_windows`` for the calls claims can share (income, forceOrders). ``day_params``: what
        the day request asks instead of ``params`` (income leaves the symbol out: the same weight, and one day
        then serves every symbol of the account); ``mine``: the rows of a day ``params`` would have returned.

        The window is read in the UTC-day windows that cover it, which other claims of the account and symbol
        ask too, and the rows outside ``start .. end`` are left out, so the rows are those the claim's own
        window returns. A stored (or in-flight) answer serves when its read began at or after
        ``read_since_ms`` (a read of the claim's own would not have begun earlier), or ``SETTLE_MS`` after the
        window's end (no row can join it since). A window spanning more than ``MAX_SHARED_CELLS`` days, a day
        reaching back past what income and forceOrders keep (90 days, less the margin: no request asks for
        purged data; measured on the last answer's arrival, the same number in a replay), or a day holding
        ``limit`` rows or more, is read in the claim's own windows, as a claim alone would."""
        fresh_after = min(end + SETTLE_MS, read_since_ms)
        cells = grid_cells(start, end)
        now = self.answers[-1].observed_at_ms
        kept_since = now - (INCOME_RETENTION_MS - RETENTION_MARGIN_MS)
        if len(cells) > MAX_SHARED_CELLS or cells[0][0] < kept_since:
            return self._rows_in_windows(path, params, start, end, limit, model)
        found: list[tuple[RowT, RawResponse]] = []
        raw: RawResponse | None = None
        asked = params if day_params is None else day_params
        for cell_start, cell_end in cells:
            raw = self._shared_get(path, _windowed(asked, cell_start, cell_end, limit), fresh_after)
            rows = self._json(raw, list)
            if len(rows) >= limit:
                return self._rows_in_windows(path, params, start, end, limit, model)
            parsed = (parse_model(model, row, raw, self.exchange.slug) for row in rows)
            found += [(row, raw) for row in parsed if start <= row.time <= end and mine(row)]
        assert raw is not None  # grid_cells yields at least one cell
        return found, raw

    def _shared_get(self, path: str, params: list[tuple[str, str]], fresh_after_ms: int) -> RawResponse:
        """GET through the shared store: an answer whose read began at or after ``fresh_after_ms`` (stored,
        or in flight in another worker) stands for a fresh read. Either way the answer joins this claim's
        ``answers`` as it was read (its replay needs it)."""
        if self.shared_answers is None:
            return self._get(path, params)
        wire: list[RawResponse] = []

        def read() -> RawAnswer:
            wire.append(self._get(path, params))
            return self.answers[-1]

        request = request_key(path, urlencode(params))
        answer, stored = self.shared_answers.answer_for(
            self._account, request, fresh_after_ms, read, self.now_ms
        )
        if not stored:
            return wire[0]
        self.answers.append(answer)
        return RawResponse(f"GET {path}", answer.status, {}, answer.body, answer.request)

    def _check_trades(self, order: BinanceOrder, trades: list[BinanceTrade], raw: RawResponse) -> None:
        foreign = [t.id for t in trades if t.order_id != order.order_id or t.symbol != order.symbol]
        if foreign:
            raise self._inconsistent(raw, f"trades {foreign} belong to another order", None)
        ids = [t.id for t in trades]
        if len(set(ids)) != len(ids):
            raise self._inconsistent(raw, f"trade ids repeat across windows: {sorted(ids)}", None)
        filled = exact_sum(t.qty for t in trades)
        if filled != order.executed_qty:
            raise self._inconsistent(
                raw, f"trades add up to {filled}, order says executedQty {order.executed_qty}", None
            )

    # ------------------------------------------------------------------------------------------ the penalty

    def _penalty_rows(self, order: BinanceOrder) -> list[tuple[BinanceIncome, RawResponse]]:
        """The INSURANCE_CLEAR rows of the symbol in ``time .. updateTime + PENALTY_SLACK_MS``."""
        oldest = self.answers[-1].observed_at_ms - (INCOME_RETENTION_MS - RETENTION_MARGIN_MS)
        if order.time < oldest:
            raise NeedsReviewError(
                self.exchange.slug,
                f"GET {INCOME_PATH}",
                ReviewCause.AGED_OUT,
                f"order {order.order_id} was created at {order.time}: its penalty rows may be past the three "
                "months income history keeps",
            )
        insurance_clear = ("incomeType", "INSURANCE_CLEAR")
        incomes, _ = self._history(
            INCOME_PATH,
            [("symbol", order.symbol), insurance_clear],
            order.time,
            order.update_time + PENALTY_SLACK_MS,
            MAX_ROWS,
            BinanceIncome,
            self._fresh_since_ms,
            day_params=[insurance_clear],
            # Another symbol's penalty is not this order's; a row of another type is kept, to be refused.
            mine=lambda row: row.symbol == order.symbol or row.income_type != "INSURANCE_CLEAR",
        )
        return incomes

    def _penalty(
        self,
        order: BinanceOrder,
        trades: list[BinanceTrade],
        forced: list[BinanceForceOrder],
        incomes: list[tuple[BinanceIncome, RawResponse]],
        settlement: str,
    ) -> tuple[Decimal, str]:
        """The insurance-clearance fee of this order: rows whose ``tradeId`` is one of its trades, plus rows
        without a trade id in ``time .. updateTime + PENALTY_SLACK_MS`` when no other forced order of the
        symbol could own them. A row that fits neither (another forced order could own an id-less row, or a
        row names a trade of no order in sight) goes to a person: a row is never dropped unexplained."""
        start, end = order.time, order.update_time + PENALTY_SLACK_MS
        trade_ids = {str(t.id) for t in trades}
        # Another forced order of the symbol whose own penalty span overlaps ours could own an id-less row.
        rivals = sorted(
            f.order_id
            for f in forced
            if f.order_id != order.order_id
            and f.symbol == order.symbol
            and f.time <= end
            and f.update_time + PENALTY_SLACK_MS >= start
        )
        mine: list[BinanceIncome] = []
        for row, row_raw in incomes:
            if row.income_type != "INSURANCE_CLEAR" or row.symbol != order.symbol:
                raise self._inconsistent(
                    row_raw, f"asked for INSURANCE_CLEAR of {order.symbol}, got {row!r}", None
                )
            if row.trade_id in trade_ids:
                mine.append(row)
                continue
            if row.trade_id and rivals:
                continue  # names a trade of another order, and there is one: that order's, by Binance's word
            if row.trade_id:
                raise NeedsReviewError(
                    self.exchange.slug,
                    f"GET {INCOME_PATH}",
                    ReviewCause.UNMATCHED_PENALTY,
                    f"INSURANCE_CLEAR {row.income} {row.asset} at {row.time} (tranId {row.tran_id}) names "
                    f"trade {row.trade_id}, not one of order {order.order_id}'s, and no other forced order "
                    f"of {order.symbol} falls in the window",
                )
            if rivals:
                raise NeedsReviewError(
                    self.exchange.slug,
                    f"GET {INCOME_PATH}",
                    ReviewCause.UNMATCHED_PENALTY,
                    f"INSURANCE_CLEAR {row.income} {row.asset} at {row.time} (tranId {row.tran_id}) has no "
                    f"tradeId, and forced orders {rivals} of {order.symbol} fall in the same window as "
                    f"{order.order_id}: it cannot be tied to one order",
                )
            mine.append(row)
        assets = {row.asset for row in mine}
        if len(assets) > 1:
            raise NeedsReviewError(
                self.exchange.slug,
                f"GET {INCOME_PATH}",
                ReviewCause.FEE_CURRENCY,
                f"penalty rows of order {order.order_id} in {', '.join(sorted(assets))}",
            )
        return exact_sum(row.income for row in mine), (assets.pop() if assets else settlement)

    # ------------------------------------------------------------------------------------------ the wire

    def _get(self, path: str, params: list[tuple[str, str]]) -> RawResponse:
        weight = WEIGHTS[path]
        # A ban or back-off closes the base URL: fail now rather than sleep on the weight gate first.
        self._transport.raise_if_backing_off(f"GET {path}")
        if self.weight_gate is not None:
            try:
                self.weight_gate.wait_for(weight, self.max_gate_wait_seconds)
            except LimiterTimeoutError as exc:
                raise RateLimitedError(self.exchange.slug, f"GET {path}", str(exc)) from None
        creds = self._credentials

        def sign(query: str) -> tuple[str, Mapping[str, str]]:
            # Called per attempt: every retry carries a fresh timestamp from the (server-corrected) clock.
            stamped = f"{query}&" + urlencode(
                [("recvWindow", str(self.recv_window_ms)), ("timestamp", str(self.now_ms()))]
            )
            signed = f"{stamped}&signature={binance_signature(stamped, creds.secret.get_secret_value())}"
            return signed, {"X-MBX-APIKEY": creds.api_key.get_secret_value(), "Accept": "application/json"}

        raw = self._fetch(path, urlencode(params), sign, WEIGHT_KEY, weight)
        used = raw.headers.get(USED_WEIGHT_HEADER)
        if self.weight_gate is not None and used is not None and used.isdigit():
            self.weight_gate.observe(int(used))
        return raw

    def _error_body(self, raw: RawResponse) -> BinanceError | None:
        """The ``{"code", "msg"}`` body of a refused request, None for anything else."""
        if raw.status == 200:
            return None
        try:
            body = parse_json(raw, self.exchange.slug)
        except MalformedResponseError:
            return None
        if isinstance(body, dict) and "code" in body and "msg" in body:
            return parse_model(BinanceError, body, raw, self.exchange.slug)
        return None

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
            raise self._error_for(raw, error)
        if raw.status != 200:
            raise (
                _status_error(raw, slug)
                if raw.status >= 500 or raw.status in (418, 429)
                else self._malformed(raw, f"HTTP {raw.status} without an error body")
            )
        if not isinstance(body, shape):
            raise self._malformed(raw, f"expected a JSON {shape.__name__}, got {type(body).__name__}")
        return body

    def _error_for(self, raw: RawResponse, error: BinanceError) -> Exception:
        slug = self.exchange.slug
        detail = f"HTTP {raw.status} code {error.code}: {error.msg}"
        if error.code == INVALID_SYMBOL_CODE:
            # Never "not found": the symbol stopped being served between two of our calls.
            return NeedsReviewError(slug, raw.endpoint, ReviewCause.INSTRUMENT_NOT_LIVE, detail)
        if error.code in AUTH_CODES:
            return AuthenticationError(slug, raw.endpoint, detail)
        if error.code == CLOCK_SKEW_CODE:
            return ClockSkewError(slug, raw.endpoint, detail)
        if error.code in RATE_LIMIT_CODES or raw.status in (418, 429):
            return RateLimitedError(slug, raw.endpoint, detail)
        if error.code in TRANSIENT_CODES or raw.status >= 500:
            return TransientError(slug, raw.endpoint, detail)
        # -2013 outside Query Order, -1127 (window too long), ...: our request or their answer is wrong.
        return self._transport.save_malformed(MalformedResponseError(slug, raw.endpoint, detail, raw.body))

    def _inconsistent(
        self, raw: RawResponse, detail: str, cause: ReviewCause | None
    ) -> InconsistentEvidenceError:
        error = InconsistentEvidenceError(self.exchange.slug, raw.endpoint, detail, raw.body)
        if cause is not None:
            error.cause = cause
        self._transport.save_malformed(error)
        return error


def _windowed(params: list[tuple[str, str]], start: int, end: int, limit: int) -> list[tuple[str, str]]:
    return [*params, ("startTime", str(start)), ("endTime", str(end)), ("limit", str(limit))]


def _status_error(raw: RawResponse, slug: str) -> TransientError:
    if raw.status in (418, 429):
        return RateLimitedError(slug, raw.endpoint, f"HTTP {raw.status}")
    return TransientError(slug, raw.endpoint, f"HTTP {raw.status}")
