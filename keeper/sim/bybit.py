"""The simulated Bybit v5 REST API (unified account): HMAC and RSA signatures, per-UID and per-IP limits, the
7-day windows and the retention of each endpoint, and the scenario publishing.

Wire facts (https://bybit-exchange.github.io/docs/v5/, repository ``bybit-exchange/docs``):

- Authentication ("Integration guidance"): headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms),
  ``X-BAPI-RECV-WINDOW`` (default 5000), ``X-BAPI-SIGN`` over ``timestamp + apiKey + recvWindow +
  queryString``: HMAC-SHA256 lower-case hex for a system-generated key, RSA-SHA256 (PKCS#1 v1.5) base64 for
  a self-generated RSA key. A timestamp is accepted when ``server_time - recv_window <= timestamp <
  server_time + 1000`` (else 10002).
- Envelope ``{retCode, retMsg, result, retExtInfo, time}``; errors ("Error Codes"): 10001 parameter error,
  10002 time window, 10003 invalid key, 10004 bad sign, 10005 permission denied, 10006 too many visits,
  10010 unmatched IP. HTTP 401 goes with the authentication failures (the page's HTTP table: "Need to use
  the correct key"), HTTP 200 with the other codes. 110001 "Order does not exist" is for order amend/cancel;
  the history endpoints answer an unknown ``orderId`` with an empty ``list``.
- Rate limits ("Rate Limit"): 50 requests per second per UID on each of these endpoints, answered with
  ``X-Bapi-Limit-Status`` / ``X-Bapi-Limit`` / ``X-Bapi-Limit-Reset-Timestamp`` on every signed answer;
  600 requests per 5 s per IP, over which the IP gets HTTP 403 "access too frequent" and must wait at least
  10 minutes.
- ``GET /v5/order/history`` ("Get Order History"): orders of the last 7 days in every closed status except
  Cancelled / Rejected / Deactivated, which are kept 24 hours; beyond 7 days only orders with fills, for 2
  years. Default and maximum span 7 days (only startTime: +7 days; only endTime: -7 days); limit 1-50
  (default 20); ``cursor``.
- ``GET /v5/execution/list`` ("Get Trade History", 2 years): with ``orderId`` (or ``orderLinkId``) the other
  filters are ignored; else the 7-day windows; limit 1-100 (default 50). ``execFee`` is positive for a charge
  (a maker rebate is negative).
- ``GET /v5/position/closed-pnl`` (730 days): no orderId filter; 7-day windows; limit 1-100 (default 50).
  ``closedPnl`` is net of ``openFee`` and ``closeFee`` (the page's example: exit value - entry value -
  both fees).
- ``GET /v5/account/transaction-log`` (2 years): default 24 hours (only startTime: +24 h; only endTime:
  -24 h), a span of at most 7 days; limit 1-50 (default 20); ``fee`` positive for an expense and
  ``change = cashFlow + funding - fee``.
- ``GET /v5/account/info``: the unified account's ``marginMode`` (``REGULAR_MARGIN`` = cross,
  ``ISOLATED_MARGIN``, ``PORTFOLIO_MARGIN``); none of the endpoints above names the margin mode.
- ``GET /v5/market/time``: public, ``result.timeSecond`` / ``result.timeNano``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keeper.evidence import ReviewCause
from keeper.interface import ReasonCode
from keeper.sim.scenarios import BybitBook, OwnedRecord, SimAccount, SimOrder, wire_decimal
from keeper.sim.wire import ExchangeState, Reply, owned

if TYPE_CHECKING:
    from keeper.sim.generator import ScenarioGenerator

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MAX_SPAN_MS = 7 * DAY_MS
"""Default and maximum span of order/history, execution/list, position/closed-pnl, transaction-log."""
TRANSACTION_DEFAULT_SPAN_MS = 24 * HOUR_MS
RECENT_ORDERS_MS = 7 * DAY_MS
"""order/history: every closed status for 7 days ..."""
UNFILLED_RETENTION_MS = 1 * DAY_MS
"""... Cancelled / Rejected / Deactivated for 24 hours ..."""
HISTORY_RETENTION_MS = 730 * DAY_MS
"""... orders with fills, executions, closed PnL and the transaction log for 2 years (730 days)."""
UNFILLED_STATUSES = frozenset({"Cancelled", "Rejected", "Deactivated"})
RECV_WINDOW_DEFAULT = 5000
FUTURE_TOLERANCE_MS = 1000
CATEGORIES = frozenset({"linear", "inverse", "spot", "option"})
PAGE_LIMITS = {  # endpoint -> (default, maximum)
    "order/history": (20, 50),
    "execution/list": (50, 100),
    "position/closed-pnl": (50, 100),
    "account/transaction-log": (20, 50),
}
PRIVATE = frozenset({*PAGE_LIMITS, "account/info"})
MARGIN_MODES = frozenset({"REGULAR_MARGIN", "ISOLATED_MARGIN", "PORTFOLIO_MARGIN"})
"""``GET /v5/account/info`` ``marginMode``: the unified account's mode (REGULAR_MARGIN is cross margin)."""
IP_WINDOW_MS = 5000
UID_WINDOW_MS = 1000
ACCESS_TOO_FREQUENT = b"403 Forbidden: access too frequent"
_INVERSE_FUTURE = re.compile(r"^[A-Z0-9]+USD[FGHJKMNQUVXZ]\d{2}$")


# ---------------------------------------------------------------------------- symbols


def category_of(symbol: str) -> str:
    """``linear`` for USDT / USDC contracts (…USDT, …USDC, …PERP, USDC futures like BTC-26DEC25),
    ``inverse`` for coin-margined ones (…USD perpetuals, …USDH26 futures)."""
    if symbol.endswith("USD") or _INVERSE_FUTURE.match(symbol):
        return "inverse"
    return "linear"


def settle_coin_of(symbol: str) -> str:
    """The coin a symbol settles in: USDT, USDC (…USDC, …PERP and dashed USDC futures), or the base coin of
    an inverse contract (BTCUSD → BTC)."""
    if category_of(symbol) == "inverse":
        return symbol[: symbol.index("USD")]
    if symbol.endswith("USDT"):
        return "USDT"
    return "USDC"


# ---------------------------------------------------------------------------- wire helpers


def _envelope(state: ExchangeState, code: int, msg: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": int(state.now_ms())}


def _error(state: ExchangeState, code: int, msg: str, status: int = 200) -> Reply:
    return Reply(status, _envelope(state, code, msg, {}))


def _param_error(state: ExchangeState, detail: str) -> Reply:
    return _error(state, 10001, f"params error: {detail}")


def _int_or_none(value: str) -> int | None:
    return int(value) if re.fullmatch(r"-?\d{1,19}", value) else None


def _verify_rsa(public_key_pem: str, payload: bytes, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), payload, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _authenticate(
    state: ExchangeState, path: str, query: str, headers: Any, client_ip: str
) -> SimAccount | Reply:
    key = headers.get("X-BAPI-API-KEY") or ""
    stamp = headers.get("X-BAPI-TIMESTAMP") or ""
    sign = headers.get("X-BAPI-SIGN") or ""
    recv_raw = headers.get("X-BAPI-RECV-WINDOW")
    account = state.bybit_accounts.get(key)
    if account is None:
        return _error(state, 10003, "API key is invalid.", 401)
    recv_window = RECV_WINDOW_DEFAULT if recv_raw is None else _int_or_none(recv_raw)
    sent = _int_or_none(stamp)
    if sent is None or recv_window is None or recv_window <= 0:
        return _param_error(state, "X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers (ms)")
    now = int(state.now_ms())
    if not now - recv_window <= sent < now + FUTURE_TOLERANCE_MS:
        return _error(
            state,
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{recv_window}]",
        )
    payload = f"{stamp}{key}{recv_raw or ''}{query}".encode()
    if account.public_key_pem is not None:
        valid = bool(sign) and _verify_rsa(account.public_key_pem, payload, sign)
    else:
        expected = hmac.new(account.secret.encode(), payload, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, sign)
    if not valid:
        return _error(state, 10004, "Error sign, please check your signature generation algorithm.", 401)
    if account.permissions is not None and path not in account.permissions:
        return _error(state, 10005, "Permission denied, please check your API key permissions.")
    if account.ip_whitelist and client_ip not in account.ip_whitelist:
        return _error(state, 10010, "Unmatched IP, please check your API key's bound IP addresses.")
    return account


def _ip_refused(state: ExchangeState, client_ip: str, now: float) -> bool:
    """600 requests / 5 s per IP; over it, 403 for every request until the 10-minute ban ends."""
    with state.bybit_lock:
        until = state.bybit_banned_until.get(client_ip)
        if until is not None and until > now:
            return True
        state.bybit_banned_until.pop(client_ip, None)
    limits = state.limits
    if state.bybit_ip_windows.hit(client_ip, limits.bybit_ip_per_5s, IP_WINDOW_MS, now):
        return False
    with state.bybit_lock:
        state.bybit_banned_until[client_ip] = now + limits.bybit_ip_ban_seconds * 1000
    return True


def _window(
    state: ExchangeState, params: dict[str, str], now: float, default_span: int = MAX_SPAN_MS
) -> tuple[int, int] | Reply:
    """[start, end] as the docs define it: neither bound → the last ``default_span``; one bound → the other is
    ``default_span`` away; both → at most 7 days apart."""
    bounds: list[int | None] = []
    for name in ("startTime", "endTime"):
        raw = params.get(name, "")
        value = _int_or_none(raw) if raw else None
        if raw and value is None:
            return _param_error(state, f"{name} must be a timestamp in ms")
        bounds.append(value)
    start, end = bounds
    if start is None and end is None:
        return int(now) - default_span, int(now)
    if start is None:
        assert end is not None
        return end - default_span, end
    if end is None:
        return start, start + default_span
    if start > end:
        return _param_error(state, "startTime must be less than endTime")
    if end - start > MAX_SPAN_MS:
        return _param_error(state, "the time range between startTime and endTime cannot exceed 7 days")
    return start, end


def _cursor_for(offset: int) -> str:
    return f"page_token%3D{offset}%26"


def _page(
    state: ExchangeState, endpoint: str, rows: list[dict[str, Any]], params: dict[str, str], sort_key: str
) -> Reply | tuple[list[dict[str, Any]], str]:
    default, maximum = PAGE_LIMITS[endpoint]
    raw_limit = params.get("limit", "")
    limit = _int_or_none(raw_limit) if raw_limit else default
    if limit is None or not 1 <= limit <= maximum:
        return _param_error(state, f"limit must be in [1, {maximum}]")
    offset = 0
    if params.get("cursor"):
        found = re.search(r"page_token(?:%3D|=)(\d+)", params["cursor"])
        if found is None:
            return _param_error(state, "cursor is invalid")
        offset = int(found.group(1))
    rows = sorted(rows, key=lambda r: int(r[sort_key]), reverse=True)  # newest first
    chunk = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return chunk, _cursor_for(offset + limit) if more else ""


def _matches(row: dict[str, Any], params: dict[str, str], names: tuple[str, ...]) -> bool:
    return all(str(row.get(name)) == params[name] for name in names if params.get(name))


def _coins_match(row: dict[str, Any], params: dict[str, str]) -> bool:
    """The ``baseCoin`` / ``settleCoin`` filters (upper-case only, as the docs say)."""
    symbol = str(row["symbol"])
    base, settle = params.get("baseCoin"), params.get("settleCoin")
    return (not base or symbol.startswith(base)) and (not settle or settle_coin_of(symbol) == settle)


def _order_kept(order: dict[str, Any], now: float) -> bool:
    age = now - int(order["createdTime"])
    if order["orderStatus"] in UNFILLED_STATUSES and Decimal(order["cumExecQty"]) == 0:
        return age <= UNFILLED_RETENTION_MS
    if age <= RECENT_ORDERS_MS:
        return True
    return Decimal(order["cumExecQty"]) > 0 and age <= HISTORY_RETENTION_MS


# ---------------------------------------------------------------------------- the handler


def handle_bybit(state: ExchangeState, raw_path: str, headers: Any, client_ip: str) -> Reply:
    parts = urlsplit(raw_path)
    now = state.now_ms()
    if _ip_refused(state, client_ip, now):
        return Reply(403, ACCESS_TOO_FREQUENT)
    endpoint = parts.path.removeprefix("/v5/")
    if endpoint == "market/time":
        nanos = int(now * 1_000_000)
        return Reply(
            200, _envelope(state, 0, "OK", {"timeSecond": str(nanos // 10**9), "timeNano": str(nanos)})
        )
    if endpoint not in PRIVATE:
        return _error(state, 10017, "Route not found.", 404)
    auth = _authenticate(state, parts.path, parts.query, headers, client_ip)
    if isinstance(auth, Reply):
        return auth
    account = auth
    limit = state.limits.bybit_per_uid_per_s
    allowed, remaining, reset = state.bybit_uid_windows.hit_status(
        f"{account.account_ref}:{endpoint}", limit, UID_WINDOW_MS, now
    )
    limit_headers = {
        "X-Bapi-Limit-Status": str(remaining),
        "X-Bapi-Limit": str(limit),
        "X-Bapi-Limit-Reset-Timestamp": str(int(reset)),
    }
    if not allowed:
        return Reply(200, _envelope(state, 10006, "Too many visits!", {}), limit_headers)
    reply = _endpoint(state, endpoint, dict(parse_qsl(parts.query, keep_blank_values=True)), account, now)
    return Reply(reply.status, reply.body, {**limit_headers, **reply.headers})


def _endpoint(
    state: ExchangeState, endpoint: str, params: dict[str, str], account: SimAccount, now: float
) -> Reply:
    book = state.scenarios.bybit
    if endpoint == "account/info":
        result = {
            "unifiedMarginStatus": 5,
            "marginMode": book.margin_modes.get(account.api_key, "REGULAR_MARGIN"),
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(int(now) - 30 * DAY_MS),
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
        }
        return Reply(200, _envelope(state, 0, "OK", result))
    category = params.get("category", "")
    if endpoint != "account/transaction-log" and not category:
        return _param_error(state, "category is required")
    if category and category not in CATEGORIES:
        return _param_error(state, f"category {category!r} is not supported")

    def in_category(row: dict[str, Any]) -> bool:
        return not category or category_of(str(row["symbol"])) == category

    if endpoint == "account/transaction-log":
        window = _window(state, params, now, TRANSACTION_DEFAULT_SPAN_MS)
        if isinstance(window, Reply):
            return window
        start, end = window
        rows = [
            r
            for r in owned(book.transactions, account.api_key)
            if in_category(r)
            and _matches(r, params, ("currency", "type"))
            and start <= int(r["transactionTime"]) <= end
            and int(r["transactionTime"]) >= now - HISTORY_RETENTION_MS
            and _coins_match(r, {"baseCoin": params.get("baseCoin", "")})
        ]
        return _listing(state, endpoint, rows, params, "transactionTime", category=None)
    if endpoint == "execution/list" and (params.get("orderId") or params.get("orderLinkId")):
        # "as long as these two parameters are in the input parameters, other input parameters will be
        # ignored" (Get Trade History)
        key = "orderId" if params.get("orderId") else "orderLinkId"
        rows = [
            e
            for e in owned(book.executions, account.api_key)
            if in_category(e) and e[key] == params[key] and int(e["execTime"]) >= now - HISTORY_RETENTION_MS
        ]
        return _listing(state, endpoint, rows, params, "execTime", category)
    window = _window(state, params, now)
    if isinstance(window, Reply):
        return window
    start, end = window
    if endpoint == "order/history":
        rows = [
            o
            for o in owned(book.orders, account.api_key)
            if in_category(o)
            and _order_kept(o, now)
            and _matches(o, params, ("symbol", "orderId", "orderLinkId", "orderStatus"))
            and _coins_match(o, params)
            and start <= int(o["createdTime"]) <= end
        ]
        return _listing(state, endpoint, rows, params, "createdTime", category)
    if endpoint == "execution/list":
        rows = [
            e
            for e in owned(book.executions, account.api_key)
            if in_category(e)
            and _matches(e, params, ("symbol", "execType"))
            and _coins_match(e, params)
            and start <= int(e["execTime"]) <= end
            and int(e["execTime"]) >= now - HISTORY_RETENTION_MS
        ]
        return _listing(state, endpoint, rows, params, "execTime", category)
    rows = [
        p
        for p in owned(book.closed_pnl, account.api_key)
        if in_category(p)
        and _matches(p, params, ("symbol",))
        and start <= int(p["createdTime"]) <= end
        and int(p["createdTime"]) >= now - HISTORY_RETENTION_MS
    ]
    return _listing(state, endpoint, rows, params, "createdTime", category)


def _listing(
    state: ExchangeState,
    endpoint: str,
    rows: list[dict[str, Any]],
    params: dict[str, str],
    sort_key: str,
    category: str | None,
) -> Reply:
    page = _page(state, endpoint, rows, params, sort_key)
    if isinstance(page, Reply):
        return page
    chunk, cursor = page
    result: dict[str, Any] = {"nextPageCursor": cursor, "list": chunk}
    if category is not None:
        result["category"] = category
    return Reply(200, _envelope(state, 0, "OK", result))


def rate_limited_body(state: ExchangeState) -> bytes:
    """What an injected rate-limit fault answers on /v5/ (retCode 10006, HTTP 200)."""
    return json.dumps(_envelope(state, 10006, "Too many visits!", {}), separators=(",", ":")).encode()


# ---------------------------------------------------------------------------- RSA keys


_SMALL_PRIMES_PRODUCT = math.prod(
    p for p in range(3, 5000) if all(p % d for d in range(2, math.isqrt(p) + 1))
)


def _probable_prime(rng: random.Random, bits: int) -> int:
    """A random prime of ``bits`` bits (top two bits set, so p * q has exactly twice as many): small-prime
    sieve, a base-2 Fermat test, then Miller-Rabin rounds with seeded bases."""
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if math.gcd(candidate, _SMALL_PRIMES_PRODUCT) != 1 or pow(2, candidate - 1, candidate) != 1:
            continue
        d, s = candidate - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        rounds = (_miller_rabin_round(candidate, d, s, rng.randrange(3, candidate - 2)) for _ in range(12))
        if all(rounds) and math.gcd(65537, candidate - 1) == 1:
            return candidate


def _miller_rabin_round(n: int, d: int, s: int, base: int) -> bool:
    x = pow(base, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = pow(x, 2, n)
        if x == n - 1:
            return True
    return False


def rsa_key_pair(rng: random.Random, bits: int = 2048) -> tuple[str, str]:
    """A seeded RSA key pair (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM), like the ones a Bybit
    user generates for a self-generated API key; seeded so that a scenario file repeats."""
    p, q = _probable_prime(rng, bits // 2), _probable_prime(rng, bits // 2)
    while q == p:
        q = _probable_prime(rng, bits // 2)
    e, n = 65537, p * q
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, n)
    )
    key = numbers.private_key()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


# ---------------------------------------------------------------------------- scenario publishing

CREATE_TYPE = {
    "full": "CreateByTakeOver_PassThrough",
    "partial": "CreateByLiq",
    "adl": "CreateByAdl_PassThrough",
    "none": "CreateByUser",
}
EXEC_TYPE = {"full": "BustTrade", "partial": "Trade", "adl": "AdlTrade", "none": "Trade"}
"""A laddered liquidation's (CreateByLiq) fills are ordinary trades; only the takeover is a BustTrade."""
LOG_TYPE = {"full": "LIQUIDATION", "partial": "LIQUIDATION", "adl": "ADL", "none": "TRADE"}


def order_uuid(rng: random.Random) -> str:
    """A Bybit order / execution id: a UUID."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def publish_order(
    book: BybitBook,
    o: SimOrder,
    rng: random.Random,
    next_id: Callable[[], int],
    *,
    open_fee: Decimal | None = None,
) -> None:
    """Puts a generated order on the Bybit wire: its order/history row, one execution per fill, the
    position's closed-PnL row and the transaction-log rows of its fills.

    ``o.pnl`` is the gross PnL of the closing fills and ``o.fee`` their fees, signed like the balance (a
    charge is negative); Bybit prints fees positive for a charge, so ``execFee`` / ``closeFee`` / the
    transaction log's ``fee`` are ``-fee``. ``closedPnl`` is net of ``closeFee`` and of the position's
    ``openFee`` (default: a random charge), which the order's loss does not include: the loss of the
    liquidation is ``-(closedPnl + openFee)``, the same as the sum of the transaction log's ``change``.
    Bybit reports no separate liquidation penalty (a takeover closes at the bankruptcy price), so
    ``o.penalty`` must be 0."""
    if o.penalty:
        raise ValueError(f"bybit order {o.order_id}: no separate penalty on Bybit, got {o.penalty}")
    settle = settle_coin_of(o.instrument)
    system = o.kind != "none"
    created, updated = o.time_ms - 37, o.time_ms
    close_fee = -o.fee
    open_charge = Decimal(rng.randint(1, 90_000)) / 10_000 if open_fee is None else open_fee
    order = {
        "orderId": o.order_id,
        "orderLinkId": "" if system else f"web-{rng.randbytes(6).hex()}",
        "blockTradeId": "",
        "symbol": o.instrument,
        "price": wire_decimal(o.price),
        "qty": wire_decimal(o.size),
        "side": "Sell",
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": "Filled",
        "createType": CREATE_TYPE[o.kind],
        "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": wire_decimal(o.price),
        "leavesQty": "0",
        "leavesValue": "0",
        "cumExecQty": wire_decimal(o.size),
        "cumExecValue": wire_decimal(o.size * o.price),
        "cumExecFee": wire_decimal(close_fee),
        "timeInForce": "IOC" if system else "GTC",
        "orderType": "Limit" if system else "Market",
        "stopOrderType": "UNKNOWN",
        "orderIv": "",
        "marketUnit": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "",
        "triggerPrice": "0",
        "takeProfit": "0",
        "stopLoss": "0",
        "tpslMode": "UNKNOWN",
        "ocoTriggerBy": "UNKNOWN",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "tpTriggerBy": "UNKNOWN",
        "slTriggerBy": "UNKNOWN",
        "triggerDirection": 0,
        "triggerBy": "UNKNOWN",
        "lastPriceOnCreated": wire_decimal(o.price),
        "basePrice": "",
        "reduceOnly": True,
        "closeOnTrigger": False,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": str(created),
        "updatedTime": str(updated),
        "extraFees": "",
        "cumFeeDetail": {settle: wire_decimal(close_fee)},
    }
    owner = o.owner.api_key
    book.orders.append(OwnedRecord(owner=owner, wire=order))
    left = o.size
    balance = Decimal(rng.randint(1_000_000, 90_000_000)) / 1000
    for index, trade in enumerate(o.trades):
        exec_time = updated - (len(o.trades) - 1 - index)
        left -= trade.size
        exec_id = order_uuid(rng)
        book.executions.append(
            OwnedRecord(
                owner=owner,
                wire={
                    "symbol": o.instrument,
                    "orderType": order["orderType"],
                    "underlyingPrice": "",
                    "orderLinkId": order["orderLinkId"],
                    "side": "Sell",
                    "indexPrice": "",
                    "orderId": o.order_id,
                    "stopOrderType": "UNKNOWN",
                    "leavesQty": wire_decimal(left),
                    "execTime": str(exec_time),
                    "feeCurrency": settle,
                    "isMaker": trade.fee > 0,
                    "execFee": wire_decimal(-trade.fee),
                    "feeRate": "-0.0001" if trade.fee > 0 else "0.00055",
                    "execId": exec_id,
                    "tradeIv": "",
                    "blockTradeId": "",
                    "markPrice": wire_decimal(o.price),
                    "execPrice": wire_decimal(o.price),
                    "markIv": "",
                    "orderQty": wire_decimal(o.size),
                    "orderPrice": wire_decimal(o.price),
                    "execValue": wire_decimal(trade.size * o.price),
                    "execType": EXEC_TYPE[o.kind],
                    "execQty": wire_decimal(trade.size),
                    "closedSize": wire_decimal(trade.size),
                    "extraFees": "",
                    "seq": next_id(),
                    "createType": CREATE_TYPE[o.kind],
                },
            )
        )
        change = trade.pnl + trade.fee
        balance += change
        book.transactions.append(
            OwnedRecord(
                owner=owner,
                wire={
                    "id": f"{next_id()}_{settle}_{exec_time}",
                    "symbol": o.instrument,
                    "category": category_of(o.instrument),
                    "side": "Sell",
                    "transactionTime": str(exec_time),
                    "type": LOG_TYPE[o.kind],
                    "transSubType": "",
                    "qty": wire_decimal(trade.size),
                    "size": wire_decimal(left),
                    "currency": settle,
                    "tradePrice": wire_decimal(o.price),
                    "funding": "",
                    "fee": wire_decimal(-trade.fee),
                    "cashFlow": wire_decimal(trade.pnl),
                    "change": wire_decimal(change),
                    "cashBalance": wire_decimal(balance),
                    "feeRate": "0.00055",
                    "bonusChange": "",
                    "tradeId": exec_id,
                    "orderId": o.order_id,
                    "orderLinkId": order["orderLinkId"],
                    "extraFees": "",
                },
            )
        )
    exit_value = o.size * o.price
    entry_value = exit_value - o.pnl  # a long closed by a sell: gross PnL = exit value - entry value
    book.closed_pnl.append(
        OwnedRecord(
            owner=owner,
            wire={
                "symbol": o.instrument,
                "orderType": order["orderType"],
                "leverage": "10",
                "updatedTime": str(updated + 3),
                "side": "Sell",
                "orderId": o.order_id,
                "closedPnl": wire_decimal(o.pnl - open_charge - close_fee),
                "openFee": wire_decimal(open_charge),
                "closeFee": wire_decimal(close_fee),
                "avgEntryPrice": wire_decimal((entry_value / o.size).quantize(Decimal("0.00000001"))),
                "qty": wire_decimal(o.size),
                "cumEntryValue": wire_decimal(entry_value),
                "createdTime": str(updated + 2),
                "orderPrice": wire_decimal(o.price),
                "closedSize": wire_decimal(o.size),
                "avgExitPrice": wire_decimal(o.price),
                "execType": "BustTrade" if o.kind == "full" else "Trade",
                "fillCount": str(len(o.trades)),
                "cumExitValue": wire_decimal(exit_value),
            },
        )
    )


def publish_unfilled_order(
    book: BybitBook, owner: SimAccount, symbol: str, order_id: str, time_ms: int, status: str = "Cancelled"
) -> None:
    """An order closed without a fill: order/history forgets it 24 hours after its creation."""
    book.orders.append(
        OwnedRecord(
            owner=owner.api_key,
            wire={
                "orderId": order_id,
                "orderLinkId": f"web-{order_id[:8]}",
                "blockTradeId": "",
                "symbol": symbol,
                "price": "100",
                "qty": "1",
                "side": "Buy",
                "isLeverage": "",
                "positionIdx": 0,
                "orderStatus": status,
                "createType": "CreateByUser",
                "cancelType": "CancelByUser" if status == "Cancelled" else "UNKNOWN",
                "rejectReason": "EC_NoError",
                "avgPrice": "",
                "leavesQty": "0",
                "leavesValue": "0",
                "cumExecQty": "0",
                "cumExecValue": "0",
                "cumExecFee": "0",
                "timeInForce": "GTC",
                "orderType": "Limit",
                "stopOrderType": "UNKNOWN",
                "triggerPrice": "0",
                "reduceOnly": False,
                "closeOnTrigger": False,
                "createdTime": str(time_ms),
                "updatedTime": str(time_ms + 5_000),
                "cumFeeDetail": {},
            },
        )
    )


INVERSE_SYMBOL = "BTCUSD"
USDC_SYMBOL = "ETHPERP"


def rsa_account(gen: ScenarioGenerator) -> SimAccount:
    """A Bybit account whose API key is a self-generated RSA key (the keeper signs with the private PEM)."""
    private_pem, public_pem = rsa_key_pair(gen.rng)
    account = SimAccount(
        account_ref="0x" + gen.rng.randbytes(32).hex(),
        exchange="bybit",
        api_key="".join(gen.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=18)),
        private_key_pem=private_pem,
        public_key_pem=public_pem,
    )
    gen.accounts["bybit"].append(account)
    return account


def publish_edge_cases(gen: ScenarioGenerator) -> None:
    """The bybit rules the regular mix does not reach, one claim each (see ``generate_edge_cases``).

    Ages are relative to ``gen.now`` (the simulator's clock); claims are filed an hour after the
    liquidation unless the case is about a span older than Bybit keeps."""
    rng, book = gen.rng, gen.bybit
    owner, other = gen.accounts["bybit"][:2]
    now_ms = gen.now * 1000

    def ago(days: float) -> int:
        return now_ms - int(days * DAY_MS) - rng.randint(0, 999)

    def liquidation(
        days: float, symbol: str = "BTCUSDT", kind: str = "full", account: SimAccount = owner
    ) -> SimOrder:
        order = gen.order("bybit", account, kind, time_ms=ago(days))
        order.instrument = symbol
        return order

    def filed(order: SimOrder) -> int:
        return order.time_ms // 1000 + 3600

    def publish(order: SimOrder, **options: Any) -> SimOrder:
        publish_order(book, order, rng, gen.next_id, **options)
        return order

    def expect(order: SimOrder, scenario: str, reason: ReasonCode) -> None:
        gen.expect(order, scenario, reason=reason, submitted_at=filed(order))

    # Inside the default 7 days, then beyond them: order/history and closed-pnl need a window around it.
    expect(publish(liquidation(2)), "takeover_2_days_old", ReasonCode.APPROVED)
    expect(publish(liquidation(20, "ETHUSDT")), "takeover_20_days_old_needs_windows", ReasonCode.APPROVED)
    expect(publish(liquidation(200, "SOLUSDT")), "takeover_200_days_old", ReasonCode.APPROVED)
    # A laddered liquidation (CreateByLiq, ordinary Trade fills) and the takeover 30 s later.
    partial = liquidation(15, "SOLUSDT", "partial")
    full = liquidation(15, "SOLUSDT")
    full.time_ms = partial.time_ms + 30_000
    expect(publish(partial), "laddered_then_takeover__laddered", ReasonCode.APPROVED)
    expect(publish(full), "laddered_then_takeover__takeover", ReasonCode.APPROVED)
    expect(publish(liquidation(10, kind="adl")), "adl_not_covered", ReasonCode.ADL_NOT_COVERED)
    # A maker rebate on one fill: execFee negative, lowering the loss.
    rebate = liquidation(9, "ETHUSDT")
    rebate.fee = Decimal(rng.randint(1, 90_000)) / 10_000
    for index, trade in enumerate(rebate.trades):
        trade.fee = rebate.fee if index == 0 else Decimal(0)
    expect(publish(rebate), "maker_rebate_lowers_loss", ReasonCode.APPROVED)
    # Linear USDC perpetual (settles in USDC: paid) and an inverse one (settles in BTC: rejected).
    expect(publish(liquidation(12, USDC_SYMBOL)), "usdc_perpetual", ReasonCode.APPROVED)
    inverse = liquidation(11, INVERSE_SYMBOL, account=other)
    scale = Decimal(10) ** -5  # coin-margined: PnL and fees in BTC
    inverse.pnl, inverse.fee = inverse.pnl * scale, inverse.fee * scale
    for trade in inverse.trades:
        trade.pnl, trade.fee = trade.pnl * scale, trade.fee * scale
    expect(publish(inverse), "inverse_settles_in_btc", ReasonCode.UNSUPPORTED_SETTLEMENT)
    # Never published: inside 2 years the absence is proof; a span older than 2 years proves nothing.
    missing = liquidation(30)
    gen.expect(
        missing,
        "unknown_order_inside_retention",
        reason=ReasonCode.ORDER_NOT_FOUND,
        submitted_at=filed(missing),
        evidence=False,
    )
    late = liquidation(745)
    gen.expect(
        late,
        "unknown_order_span_older_than_2_years",
        review_cause=ReviewCause.AGED_OUT.value,
        submitted_at=now_ms // 1000 - 740 * 86_400,
        evidence=False,
    )
    gone = publish(liquidation(745, "ETHUSDT", account=other))
    gen.expect(
        gone,
        "published_order_older_than_2_years",
        review_cause=ReviewCause.AGED_OUT.value,
        submitted_at=now_ms // 1000 - 740 * 86_400,
        evidence=False,
    )
    # An account in isolated margin mode (account/info says ISOLATED_MARGIN; the others are REGULAR_MARGIN).
    book.margin_modes[other.api_key] = "ISOLATED_MARGIN"
    expect(publish(liquidation(6, "SOLUSDT", account=other)), "isolated_margin_account", ReasonCode.APPROVED)
    # A self-generated RSA key signs the keeper's requests.
    signer = rsa_account(gen)
    expect(publish(liquidation(5, account=signer)), "rsa_key_account", ReasonCode.APPROVED)
    # Not claimed: cancelled without fills 2 hours and 3 days ago (the 24-hour rule shows on the wire).
    for hours in (2, 72):
        publish_unfilled_order(book, owner, "BTCUSDT", order_uuid(rng), now_ms - hours * HOUR_MS)
