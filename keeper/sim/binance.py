"""The simulated Binance USD-M futures REST API: HMAC query signatures, weights per IP, error codes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from keeper.interface import ReasonCode
from keeper.sim.scenarios import BinanceBook, OwnedRecord, SimAccount, SimOrder, wire_decimal

if TYPE_CHECKING:
    from keeper.sim.generator import ScenarioGenerator
from keeper.sim.wire import ExchangeState, Reply, SimLimits, owned

# Request weight per endpoint (forceOrders: 20 with a symbol, 50 without).
BINANCE_WEIGHTS = {"order": 1, "allOrders": 5, "userTrades": 5, "income": 30, "time": 1}

log = logging.getLogger(__name__)


def _bn_error(status: int, code: int, msg: str) -> Reply:
    return Reply(status, {"code": code, "msg": msg})


def _binance_authenticate(
    state: ExchangeState, query: str, headers: Any
) -> tuple[SimAccount, dict[str, str]] | Reply:
    key = headers.get("X-MBX-APIKEY")
    if not key:
        return _bn_error(401, -2014, "API-key format invalid.")
    account = state.binance_accounts.get(key)
    if account is None:
        return _bn_error(401, -2015, "Invalid API-key, IP, or permissions for action.")
    head, marker, signature = query.rpartition("&signature=")
    if not marker:
        head, marker, signature = query.rpartition("signature=")
        if not marker or head:
            return _bn_error(
                400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
    params = dict(parse_qsl(head, keep_blank_values=True))
    if "timestamp" not in params or not params["timestamp"].isdigit():
        return _bn_error(
            400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    recv_window = int(params.get("recvWindow", "5000")) if params.get("recvWindow", "5000").isdigit() else -1
    if not 0 < recv_window <= 60_000:
        return _bn_error(400, -1131, "recvWindow must be less than 60000")
    sent, now = int(params["timestamp"]), state.now_ms()
    if not (sent < now + 1000 and now - sent <= recv_window):
        return _bn_error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    expected = hmac.new(account.secret.encode(), head.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return _bn_error(400, -1022, "Signature for this request is not valid.")
    return account, params


DAY_MS = 86_400_000
MAX_SPAN_MS = 7 * DAY_MS
# How far back each endpoint serves rows (Binance USD-M docs): userTrades 6 months, income 3 months,
# forceOrders 90 days; orders follow the Query Order rule (``_order_visible``).
RETENTION_MS = {"userTrades": 180 * DAY_MS, "income": 90 * DAY_MS, "forceOrders": 90 * DAY_MS}
ORDER_RETENTION_MS = 90 * DAY_MS
UNFILLED_RETENTION_MS = 3 * DAY_MS
ENDPOINTS = ("order", "allOrders", "forceOrders", "userTrades", "income", "time")
DEFAULT_LIMITS = {"allOrders": 500, "forceOrders": 50, "userTrades": 500, "income": 100}
MAX_LIMITS = {"allOrders": 1000, "forceOrders": 100, "userTrades": 1000, "income": 1000}


def _illegal(name: str) -> Reply:
    return _bn_error(
        400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
    )


def _window(endpoint: str, params: dict[str, str], now: float) -> tuple[float, float] | Reply:
    """The [start, end] the endpoint serves for these parameters: without times only the last 7 days (the
    1.0 simulator returned everything), one bound extends 7 days from the other, a longer span is refused."""
    raw_start, raw_end = params.get("startTime", ""), params.get("endTime", "")
    for name, value in (("startTime", raw_start), ("endTime", raw_end)):
        if value and not value.lstrip("-").isdigit():
            return _illegal(name)
    start = int(raw_start) if raw_start else None
    end = int(raw_end) if raw_end else None
    if start is None and end is None:
        return now - MAX_SPAN_MS, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN_MS, end
    if end is None:
        return start, min(now, start + MAX_SPAN_MS)
    if start > end:
        return _bn_error(400, -1023, "Start time is greater than end time.")
    # allOrders: "must be less than 7 days"; the others: "cannot be longer than 7 days".
    too_long = end - start >= MAX_SPAN_MS if endpoint == "allOrders" else end - start > MAX_SPAN_MS
    if too_long:
        return _bn_error(
            400, -1127, f"More than {MAX_SPAN_MS // 3_600_000} hours between startTime and endTime."
        )
    return start, end


def _order_visible(order: dict[str, Any], now: float) -> bool:
    """Query Order / allOrders: an order is gone 90 days after creation, and 3 days after creation when it was
    canceled or expired without a fill."""
    created = int(order["time"])
    if created + ORDER_RETENTION_MS < now:
        return False
    unfilled = order["status"] in ("CANCELED", "EXPIRED") and Decimal(order["executedQty"]) == 0
    return not (unfilled and created + UNFILLED_RETENTION_MS < now)


def handle_binance(state: ExchangeState, raw_path: str, headers: Any, client_ip: str) -> Reply:
    parts = urlsplit(raw_path)
    endpoint = parts.path.removeprefix("/fapi/v1/")
    if not parts.path.startswith("/fapi/v1/") or endpoint not in ENDPOINTS:
        return Reply(404, {"code": -5000, "msg": "Path not found"})
    query_params = dict(parse_qsl(parts.query, keep_blank_values=True))
    weight = BINANCE_WEIGHTS.get(endpoint) or (20 if query_params.get("symbol") else 50)
    now = state.now_ms()
    used = state.binance_weight.spend(client_ip, weight, now)
    weight_header = {"X-MBX-USED-WEIGHT-1M": str(used)}
    if used > state.limits.binance_weight_per_minute:
        retry_after = str(max(1, int(60 - (now / 1000) % 60)))
        limit = state.limits.binance_weight_per_minute
        msg = f"Too many requests; current limit is {limit} request weight per 1 MINUTE."
        return Reply(429, {"code": -1003, "msg": msg}, {**weight_header, "Retry-After": retry_after})
    reply = _binance_endpoint(state, endpoint, parts.query, headers)
    return Reply(reply.status, reply.body, {**weight_header, **reply.headers})


def _binance_endpoint(state: ExchangeState, endpoint: str, query: str, headers: Any) -> Reply:
    if endpoint == "time":
        return Reply(200, {"serverTime": int(state.now_ms())})
    auth = _binance_authenticate(state, query, headers)
    if isinstance(auth, Reply):
        return auth
    account, params = auth
    book = state.scenarios.binance
    now = state.now_ms()
    symbol = params.get("symbol", "")
    if endpoint in ("order", "allOrders", "userTrades") and not symbol:
        return _bn_error(
            400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
        )
    if symbol and symbol in book.disabled_symbols:
        return _bn_error(400, -1121, "Invalid symbol.")
    if endpoint == "order":
        order_id, client_id = params.get("orderId", ""), params.get("origClientOrderId", "")
        if not order_id and not client_id:
            return _bn_error(
                400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        for order in owned(book.orders, account.api_key):
            matches_id = (
                str(order["orderId"]) == order_id if order_id else order["clientOrderId"] == client_id
            )
            if matches_id and order["symbol"] == symbol and _order_visible(order, now):
                return Reply(200, order)
        return _bn_error(400, -2013, "Order does not exist.")
    window = _window(endpoint, params, now)
    if isinstance(window, Reply):
        return window
    start, end = window
    raw_limit = params.get("limit") or str(DEFAULT_LIMITS[endpoint])
    if not raw_limit.isdigit():
        return _illegal("limit")
    limit = min(int(raw_limit), MAX_LIMITS[endpoint])
    oldest = now - RETENTION_MS.get(endpoint, ORDER_RETENTION_MS)

    def in_window(row: dict[str, Any]) -> bool:
        return start <= int(row["time"]) <= end and int(row["time"]) >= oldest

    if endpoint == "allOrders":
        from_id = int(params["orderId"]) if params.get("orderId", "").isdigit() else None
        rows = [
            o
            for o in owned(book.orders, account.api_key)
            if o["symbol"] == symbol
            and _order_visible(o, now)
            and (from_id is None or int(o["orderId"]) >= from_id)
            and start <= int(o["time"]) <= end
        ]
        return Reply(200, sorted(rows, key=lambda o: int(o["orderId"]))[:limit])
    if endpoint == "forceOrders":
        close_type = params.get("autoCloseType", "")
        rows = [
            o
            for o in owned(book.force_orders, account.api_key)
            if (not symbol or o["symbol"] == symbol)
            and (close_type != "LIQUIDATION" or o["clientOrderId"].startswith("autoclose-"))
            and (close_type != "ADL" or o["clientOrderId"] == "adl_autoclose")
            and in_window(o)
        ]
        return Reply(200, rows[:limit])
    if endpoint == "userTrades":
        rows = [
            t
            for t in owned(book.trades, account.api_key)
            if t["symbol"] == symbol
            and (not params.get("orderId") or str(t["orderId"]) == params["orderId"])
            and in_window(t)
        ]
        return Reply(200, rows[:limit])
    income_type = params.get("incomeType", "")
    rows = [
        i
        for i in owned(book.income, account.api_key)
        if (not symbol or i["symbol"] == symbol)
        and (not income_type or i["incomeType"] == income_type)
        and in_window(i)
    ]
    return Reply(200, rows[:limit])


# ---------------------------------------------------------------------------- scenario publishing


def margin_asset(symbol: str) -> str:
    """The asset a USD-M symbol settles in (its quote): BTCUSDC → USDC, anything else here → USDT."""
    return "USDC" if symbol.split("_", 1)[0].endswith("USDC") else "USDT"


def publish_order(
    book: BinanceBook,
    o: SimOrder,
    rng: random.Random,
    next_id: Callable[[], int],
    *,
    commission_asset: str | None = None,
    penalty_trade_id: bool = True,
    penalty_delay_ms: int = 0,
    client_order_id: str | None = None,
) -> None:
    """Puts a generated order on the Binance wire: the order, forceOrders, userTrades and income rows.

    ``commission`` is signed like ``realizedPnl`` (the USD-M docs' example: a charge is negative, a rebate
    positive) and in ``commission_asset`` (default: the symbol's margin asset; BNB when the account pays
    fees in BNB). The INSURANCE_CLEAR row names the order's last trade unless ``penalty_trade_id`` is False
    ("tradeId, if existing"), and is posted ``penalty_delay_ms`` after the order's ``updateTime``."""
    client_id = {
        "full": f"autoclose-{o.time_ms}{rng.randint(100000, 999999)}",
        "adl": "adl_autoclose",
    }
    settle = margin_asset(o.instrument)
    system = o.kind != "none"
    cum_quote = o.size * o.price
    created, updated = o.time_ms - 43, o.time_ms
    wire = {
        "avgPrice": wire_decimal(o.price),
        "clientOrderId": client_order_id or client_id.get(o.kind, f"web_{rng.randbytes(10).hex()}"),
        "cumQuote": wire_decimal(cum_quote),
        "executedQty": wire_decimal(o.size),
        "orderId": int(o.order_id),
        "origQty": wire_decimal(o.size),
        "origType": "LIMIT",
        "price": wire_decimal(o.price),
        "reduceOnly": False,
        "side": "SELL",
        "positionSide": "BOTH",
        "status": "FILLED",
        "stopPrice": "0",
        "closePosition": False,
        "symbol": o.instrument,
        "time": created,
        "timeInForce": "IOC" if o.kind == "full" else "GTC",
        "type": "LIMIT",
        "updateTime": updated,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    }
    book.orders.append(OwnedRecord(owner=o.owner.api_key, wire=wire))
    if system:
        force_fields = (
            "orderId",
            "symbol",
            "status",
            "clientOrderId",
            "price",
            "avgPrice",
            "origQty",
            "executedQty",
            "cumQuote",
            "timeInForce",
            "type",
            "reduceOnly",
            "closePosition",
            "side",
            "positionSide",
            "stopPrice",
            "workingType",
            "origType",
            "time",
        )
        force = {name: wire[name] for name in force_fields} | {"updateTime": updated}
        book.force_orders.append(OwnedRecord(owner=o.owner.api_key, wire=force))
    for index, trade in enumerate(o.trades):
        book.trades.append(
            OwnedRecord(
                owner=o.owner.api_key,
                wire={
                    "buyer": False,
                    "commission": wire_decimal(trade.fee),
                    "commissionAsset": commission_asset or settle,
                    "id": trade.trade_id,
                    "maker": False,
                    "orderId": int(o.order_id),
                    "price": wire_decimal(o.price),
                    "qty": wire_decimal(trade.size),
                    "quoteQty": wire_decimal(trade.size * o.price),
                    "realizedPnl": wire_decimal(trade.pnl),
                    "side": "SELL",
                    "positionSide": "BOTH",
                    "symbol": o.instrument,
                    "time": updated - (len(o.trades) - 1 - index),
                },
            )
        )
    if o.penalty:
        book.income.append(
            OwnedRecord(
                owner=o.owner.api_key,
                wire={
                    "symbol": o.instrument,
                    "incomeType": "INSURANCE_CLEAR",
                    "income": wire_decimal(o.penalty),
                    "asset": settle,
                    "info": "",
                    "time": updated + penalty_delay_ms,
                    "tranId": next_id(),
                    "tradeId": str(o.trades[-1].trade_id) if penalty_trade_id else "",
                },
            )
        )


def publish_canceled_order(
    book: BinanceBook, owner: SimAccount, symbol: str, order_id: int, time_ms: int
) -> None:
    """An order canceled without a fill: Query Order forgets it 3 days after its creation."""
    book.orders.append(
        OwnedRecord(
            owner=owner.api_key,
            wire={
                "avgPrice": "0.00000",
                "clientOrderId": f"web_{order_id}",
                "cumQuote": "0",
                "executedQty": "0",
                "orderId": order_id,
                "origQty": "1",
                "origType": "LIMIT",
                "price": "100",
                "reduceOnly": False,
                "side": "BUY",
                "positionSide": "BOTH",
                "status": "CANCELED",
                "stopPrice": "0",
                "closePosition": False,
                "symbol": symbol,
                "time": time_ms,
                "timeInForce": "GTC",
                "type": "LIMIT",
                "updateTime": time_ms + 5_000,
                "workingType": "CONTRACT_PRICE",
                "priceProtect": False,
                "priceMatch": "NONE",
                "selfTradePreventionMode": "NONE",
                "goodTillDate": 0,
            },
        )
    )


DISABLED_SYMBOL = "LUNA2USDT"
"""A symbol the edge-case file marks disabled: its orders exist, Binance answers -1121 for it."""


def publish_edge_cases(gen: ScenarioGenerator) -> None:
    """The binance rules the regular mix does not reach, one claim each (see ``generate_edge_cases``).

    Ages are relative to ``gen.now``, the simulator's clock when it serves the file."""
    rng, book = gen.rng, gen.binance
    owner, other = gen.accounts["binance"][0], gen.accounts["binance"][1]
    now_ms = gen.now * 1000

    def ago(days: float) -> int:
        return now_ms - int(days * DAY_MS) - rng.randint(0, 999)

    def liquidation(days: float, symbol: str | None = None, who: SimAccount = owner) -> SimOrder:
        order = gen.order("binance", who, "full", time_ms=ago(days))
        if symbol is not None:
            order.instrument = symbol
        if order.penalty == 0:
            order.penalty = -Decimal(rng.randint(1, 20_000)) / 1000
        return order

    def publish(order: SimOrder, **options: Any) -> SimOrder:
        publish_order(book, order, rng, gen.next_id, **options)
        return order

    # Older than the 7-day default of userTrades: found only with a window around the order.
    gen.expect(publish(liquidation(10)), "liquidation_10_days_old", reason=ReasonCode.APPROVED)
    gen.expect(publish(liquidation(60)), "liquidation_60_days_old", reason=ReasonCode.APPROVED)
    # Never published: inside the 90 days, absence is proof.
    gen.expect(
        liquidation(20), "unknown_order_inside_retention", reason=ReasonCode.ORDER_NOT_FOUND, evidence=False
    )
    # Published, but 100 days old: Query Order no longer returns it, so absence proves nothing.
    gen.expect(publish(liquidation(100)), "order_aged_out", review_cause="aged_out")
    disabled = publish(liquidation(15, DISABLED_SYMBOL))
    book.disabled_symbols.append(DISABLED_SYMBOL)
    gen.expect(disabled, "disabled_symbol", review_cause="instrument_not_live")
    gen.expect(
        publish(liquidation(12), commission_asset="BNB"), "bnb_commission", review_cause="fee_currency"
    )
    gen.expect(publish(liquidation(9, "BTCUSDC")), "usdc_margined", reason=ReasonCode.APPROVED)
    gen.expect(
        publish(liquidation(11), penalty_trade_id=False, penalty_delay_ms=5 * 60_000),
        "penalty_without_trade_id_after_update_time",
        reason=ReasonCode.APPROVED,
    )
    # Two liquidations of one symbol ten minutes apart, both penalties without a trade id.
    first = liquidation(13, "ETHUSDT", other)
    second = liquidation(13, "ETHUSDT", other)
    second.time_ms = first.time_ms + 10 * 60_000
    publish(first, penalty_trade_id=False, penalty_delay_ms=30_000)
    publish(second, penalty_trade_id=False, penalty_delay_ms=30_000)
    gen.expect(first, "penalty_unmatched_two_liquidations", review_cause="unmatched_penalty")
    # One liquidation closed by two autoclose- orders: each is its own claim, both pay.
    pair_a = liquidation(14, "SOLUSDT")
    pair_b = liquidation(14, "SOLUSDT")
    pair_b.time_ms = pair_a.time_ms + 2
    for order in (pair_a, pair_b):
        publish(order, client_order_id=f"autoclose-{pair_a.time_ms}{rng.randint(100000, 999999)}")
        gen.expect(order, "autoclose_pair", reason=ReasonCode.APPROVED)
    # A maker rebate: the commission is income and lowers the loss.
    rebate = liquidation(8)
    rebate.fee = Decimal(rng.randint(1, 90_000)) / 10_000
    for index, trade in enumerate(rebate.trades):
        trade.fee = rebate.fee if index == 0 else Decimal(0)
    gen.expect(publish(rebate), "commission_rebate", reason=ReasonCode.APPROVED)
    # Not claimed: canceled without fills, 2 and 5 days old (the 3-day rule shows on the wire).
    for days in (2, 5):
        publish_canceled_order(book, owner, "BTCUSDT", gen.next_id(), ago(days))


class BinanceBans:
    """Binance's escalation per client IP: a 429 opens a back-off (its Retry-After, else the rest of the
    weight minute); an IP that keeps sending during it (``binance_ban_after_violations`` requests) is banned
    with 418 for 2 minutes, doubling with each ban up to 3 days, and gets 418 for everything meanwhile."""

    def __init__(self, limits: SimLimits) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._backoff_until: dict[str, float] = {}
        self._violations: dict[str, int] = {}
        self._banned_until: dict[str, float] = {}
        self._bans: dict[str, int] = {}

    def banned_until(self, ip: str) -> float | None:
        with self._lock:
            return self._banned_until.get(ip)

    def admit(self, ip: str, now_ms: float) -> Reply | None:
        """None when the request may be served; the 418 otherwise (a ban, or this request earns one)."""
        with self._lock:
            until = self._banned_until.get(ip)
            if until is not None and until > now_ms:
                return _ban_reply(ip, until, now_ms)
            if self._backoff_until.get(ip, 0.0) <= now_ms:
                return None
            self._violations[ip] = self._violations.get(ip, 0) + 1
            if self._violations[ip] <= self._limits.binance_ban_after_violations:
                return None
            count = self._bans.get(ip, 0)
            seconds = min(
                self._limits.binance_ban_max_seconds, self._limits.binance_ban_first_seconds * 2**count
            )
            self._bans[ip] = count + 1
            self._banned_until[ip] = now_ms + seconds * 1000
            self._backoff_until.pop(ip, None)
            self._violations[ip] = 0
            log.warning("sim: %s kept sending during its 429 back-off: banned for %ds", ip, seconds)
            return _ban_reply(ip, self._banned_until[ip], now_ms)

    def observe(self, ip: str, reply: Reply, now_ms: float) -> None:
        """A 429 that went out opens the IP's back-off (unless one is open: it was itself a violation)."""
        if reply.status != 429:
            return
        with self._lock:
            if self._backoff_until.get(ip, 0.0) > now_ms:
                return
            retry_after = reply.headers.get("Retry-After", "")
            if retry_after.isdigit():
                until = now_ms + int(retry_after) * 1000
            else:
                until = (now_ms // 60_000 + 1) * 60_000
            self._backoff_until[ip] = until
            self._violations[ip] = 0


def _ban_reply(ip: str, until_ms: float, now_ms: float) -> Reply:
    msg = (
        f"Way too many requests; IP({ip}) banned until {int(until_ms)}. "
        "Please use the websocket for live updates to avoid bans."
    )
    retry_after = max(1, -int((now_ms - until_ms) // 1000))  # whole seconds, rounded up
    return Reply(418, {"code": -1003, "msg": msg}, {"Retry-After": str(retry_after)})
