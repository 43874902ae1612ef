"""The simulated OKX v5 REST API: authentication, envelopes, error codes and per-user limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from keeper.evidence import ReviewCause
from keeper.interface import ReasonCode
from keeper.sim.scenarios import OkxBook, OwnedRecord, SimAccount, SimOrder, wire_decimal
from keeper.sim.wire import ExchangeState, Reply, owned

if TYPE_CHECKING:
    from keeper.sim.generator import ScenarioGenerator

OKX_SKEW_MS = 30_000
OKX_NOT_FOUND_BODY = {
    "code": 404,
    "data": {},
    "detailMsg": "",
    "error_code": "404",
    "error_message": "Not Found",
    "msg": "Not Found",
}


def _okx_error(status: int, code: str, msg: str, with_data: bool = False) -> Reply:
    body: dict[str, Any] = {"msg": msg, "code": code}
    if with_data:
        body["data"] = []
    return Reply(status, body)


def _okx_ok(data: list[dict[str, Any]]) -> Reply:
    return Reply(200, {"code": "0", "msg": "", "data": data})


def _parse_okx_timestamp(value: str) -> float | None:
    try:
        if not value.endswith("Z") or len(value) != 24:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


def _okx_authenticate(state: ExchangeState, raw_path: str, headers: Any) -> SimAccount | Reply:
    key = headers.get("OK-ACCESS-KEY")
    sign = headers.get("OK-ACCESS-SIGN")
    stamp = headers.get("OK-ACCESS-TIMESTAMP")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE")
    if not key:
        return _okx_error(401, "50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
    if not passphrase:
        return _okx_error(401, "50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
    if not sign:
        return _okx_error(401, "50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
    if not stamp:
        return _okx_error(401, "50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
    sent_ms = _parse_okx_timestamp(stamp)
    if sent_ms is None:
        return _okx_error(401, "50112", "Invalid OK-ACCESS-TIMESTAMP")
    if abs(state.now_ms() - sent_ms) > OKX_SKEW_MS:
        return _okx_error(401, "50102", "Timestamp request expired")
    account = state.okx_accounts.get(key)
    if account is None:
        return _okx_error(401, "50111", "Invalid OK-ACCESS-KEY")
    if account.passphrase is None or not hmac.compare_digest(passphrase, account.passphrase):
        return _okx_error(401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
    if (headers.get("x-simulated-trading") == "1") != account.simulated:
        return _okx_error(401, "50101", "APIKey does not match current environment.")
    # The signature covers the request path and query exactly as sent: no re-encoding, no sorting.
    prehash = f"{stamp}GET{raw_path}".encode()
    expected = base64.b64encode(hmac.new(account.secret.encode(), prehash, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, sign):
        return _okx_error(401, "50113", "Invalid Sign")
    return account


DAY_MS = 86_400_000
# What each endpoint still serves, by age relative to the simulator's clock (OKX docs: order history "last 7
# days" / "last 3 months", fills "last 3 days" / "last 3 months", positions history "last 3 months"; older
# orders are gone from order details too).
ORDER_RETENTION_MS = 90 * DAY_MS
ORDERS_HISTORY_RETENTION_MS = 7 * DAY_MS
ARCHIVE_RETENTION_MS = 90 * DAY_MS
FILLS_RETENTION_MS = 3 * DAY_MS
FILLS_HISTORY_RETENTION_MS = 90 * DAY_MS
POSITIONS_RETENTION_MS = 90 * DAY_MS
# Published limits per 2 s (per user ID; trade/order per user ID + instrument; public/instruments per IP +
# instType), used when the SimLimits of a test do not name the endpoint.
PUBLISHED_PER_2S = {
    "trade/order": 60,
    "trade/orders-history": 40,
    "trade/orders-history-archive": 20,
    "trade/fills": 60,
    "trade/fills-history": 10,
    "account/positions-history": 10,
    "public/instruments": 20,
}
PRIVATE = frozenset(PUBLISHED_PER_2S) - {"public/instruments"}
PAGE_MAX = 100


def _limit_of(state: ExchangeState, endpoint: str) -> int:
    return state.limits.okx_per_2s.get(endpoint, PUBLISHED_PER_2S[endpoint])


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _page(rows: list[dict[str, Any]], params: dict[str, str], cursor: str) -> Reply:
    """Newest first by ``cursor``; ``after`` / ``before`` page on it (older / newer than the value)."""
    rows = sorted(rows, key=lambda r: _int(r.get(cursor)), reverse=True)
    if params.get("after"):
        rows = [r for r in rows if _int(r.get(cursor)) < _int(params["after"])]
    if params.get("before"):
        rows = [r for r in rows if _int(r.get(cursor)) > _int(params["before"])]
    limit = min(_int(params.get("limit") or PAGE_MAX, PAGE_MAX), PAGE_MAX)
    return _okx_ok(rows[:limit])


def _between(value: object, params: dict[str, str]) -> bool:
    """OKX's begin / end filters (inclusive), on cTime for orders and ts for fills."""
    at = _int(value)
    begin, end = params.get("begin"), params.get("end")
    return (not begin or at >= _int(begin)) and (not end or at <= _int(end))


def _matches(row: dict[str, Any], params: dict[str, str], names: tuple[str, ...]) -> bool:
    return all(row.get(name) == params[name] for name in names if params.get(name))


def handle_okx(state: ExchangeState, raw_path: str, headers: Any) -> Reply:
    parts = urlsplit(raw_path)
    endpoint = parts.path.removeprefix("/api/v5/")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    book = state.scenarios.okx
    now = state.now_ms()
    if endpoint == "public/time":
        return _okx_ok([{"ts": str(int(now))}])
    if endpoint == "public/instruments":
        # Public: no signature, limited per IP and instType.
        if not params.get("instType"):
            return _okx_error(400, "50014", "Parameter instType can not be empty.", with_data=True)
        scope = f"public/instruments:{params['instType']}"
        if not state.okx_windows.hit(scope, _limit_of(state, endpoint), state.limits.okx_window_ms, now):
            return _okx_error(429, "50011", "Too Many Requests")
        live = [
            i
            for i in book.instruments
            if i.get("instId") not in book.delisted and _matches(i, params, ("instType",))
        ]
        if params.get("instId"):
            live = [i for i in live if i.get("instId") == params["instId"]]
            if not live:
                return _okx_error(200, "51001", "Instrument ID or Spread ID doesn't exist.", with_data=True)
        return _okx_ok(live)
    if endpoint not in PRIVATE:
        return Reply(404, OKX_NOT_FOUND_BODY)
    auth = _okx_authenticate(state, raw_path, headers)
    if isinstance(auth, Reply):
        return auth
    account = auth
    # Limits count per user (the account; a user's several keys share them), not per API key.
    scope = f"{account.account_ref}:{endpoint}" + (
        f":{params.get('instId', '')}" if endpoint == "trade/order" else ""
    )
    if not state.okx_windows.hit(scope, _limit_of(state, endpoint), state.limits.okx_window_ms, now):
        return _okx_error(429, "50011", "Too Many Requests")
    if endpoint == "trade/order":
        return _order_details(state, params, account.api_key)
    if endpoint in ("trade/orders-history", "trade/orders-history-archive"):
        if not params.get("instType"):
            return _okx_error(400, "50014", "Parameter instType can not be empty.", with_data=True)
        kept = ORDERS_HISTORY_RETENTION_MS if endpoint == "trade/orders-history" else ARCHIVE_RETENTION_MS
        orders = [
            o
            for o in owned(book.orders, account.api_key)
            if _int(o.get("cTime")) >= now - kept
            and _matches(o, params, ("instType", "instId", "category", "state"))
            and _between(o.get("cTime"), params)
        ]
        return _page(orders, params, "ordId")
    if endpoint == "account/positions-history":
        positions = [
            p
            for p in owned(book.positions, account.api_key)
            if _int(p.get("uTime")) >= now - POSITIONS_RETENTION_MS
            and _matches(p, params, ("instType", "instId", "mgnMode", "type", "posId"))
        ]
        return _page(positions, params, "uTime")
    if endpoint == "trade/fills-history" and not params.get("instType"):
        return _okx_error(400, "50014", "Parameter instType can not be empty.", with_data=True)
    kept = FILLS_RETENTION_MS if endpoint == "trade/fills" else FILLS_HISTORY_RETENTION_MS
    fills = [
        f
        for f in owned(book.fills, account.api_key)
        if _int(f.get("ts")) >= now - kept
        and _matches(f, params, ("instType", "instId", "ordId", "subType"))
        and _between(f.get("ts"), params)
    ]
    return _page(fills, params, "billId")


def _order_details(state: ExchangeState, params: dict[str, str], api_key: str) -> Reply:
    """trade/order: live instruments only (51001 otherwise); orders older than 3 months are gone (51603)."""
    book = state.scenarios.okx
    inst_id = params.get("instId", "")
    if not inst_id:
        return _okx_error(400, "50014", "Parameter instId can not be empty.", with_data=True)
    ord_id, cl_ord_id = params.get("ordId", ""), params.get("clOrdId", "")
    if not ord_id and not cl_ord_id:
        return _okx_error(400, "51000", "Parameter ordId error", with_data=True)
    if inst_id in book.delisted:
        return _okx_error(200, "51001", "Instrument ID or Spread ID doesn't exist.", with_data=True)
    for order in owned(book.orders, api_key):
        matches_id = order["ordId"] == ord_id if ord_id else order.get("clOrdId") == cl_ord_id
        kept = _int(order.get("cTime")) >= state.now_ms() - ORDER_RETENTION_MS
        if matches_id and order["instId"] == inst_id and kept:
            return _okx_ok([order])
    return _okx_error(200, "51603", "Order does not exist", with_data=True)


# ---------------------------------------------------------------------------- scenario publishing


def _inst_type(instrument: str) -> str:
    if instrument.endswith("-SWAP"):
        return "SWAP"
    last = instrument.rsplit("-", 1)[-1]
    return "FUTURES" if last.isdigit() and len(last) == 6 else "MARGIN"


def _settle_ccy(instrument: str) -> str:
    """Inverse contracts (quoted in USD) settle in the coin; linear ones in the quote stablecoin."""
    base, quote = instrument.split("-")[:2]
    return base if quote == "USD" else quote


def instrument_row(instrument: str) -> dict[str, Any]:
    """A public/instruments row (the fields the keeper reads plus the ones around them)."""
    base, quote = instrument.split("-")[:2]
    inverse = quote == "USD"
    inst_type = _inst_type(instrument)
    return {
        "instType": inst_type,
        "instId": instrument,
        "instFamily": f"{base}-{quote}",
        "uly": f"{base}-{quote}",
        "baseCcy": "",
        "quoteCcy": "",
        "settleCcy": _settle_ccy(instrument),
        "ctType": "inverse" if inverse else "linear",
        "ctVal": "100" if inverse else "0.01",
        "ctValCcy": "USD" if inverse else base,
        "ctMult": "1",
        "lever": "100",
        "lotSz": "0.1",
        "minSz": "0.1",
        "tickSz": "0.1",
        "listTime": "1606468572000",
        "expTime": "",
        "state": "live",
    }


def publish_order(
    book: OkxBook,
    o: SimOrder,
    *,
    td_mode: str = "cross",
    position_penalty: Decimal | None = None,
) -> None:
    """Puts a generated order on the OKX wire: order details / history row, fills, the instrument (unless the
    book marks it delisted) and, for a liquidation, the positions-history row.

    ``td_mode="isolated"``: ``o.penalty`` is the position's ``liqPenalty`` (not in the order's pnl). Cross
    margin folds the penalty into pnl, so a cross order must carry ``o.penalty == 0``; ``position_penalty``
    then puts a liqPenalty on the cross position row that the keeper must not add again.
    """
    if td_mode == "cross" and o.penalty:
        raise ValueError(f"cross-margin order {o.order_id}: the penalty {o.penalty} must already be in pnl")
    category = {
        "full": "full_liquidation",
        "partial": "partial_liquidation",
        "adl": "adl",
        "none": "normal",
    }
    sub_type = {"full": "104", "partial": "100", "adl": "125", "none": "5"}[o.kind]
    system = o.kind != "none"
    inst_type = _inst_type(o.instrument)
    ccy = _settle_ccy(o.instrument)
    last = o.trades[-1]
    u_time = o.time_ms + 3
    wire = {
        "accFillSz": wire_decimal(o.size),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": wire_decimal(o.price),
        "cTime": str(o.time_ms - 40),
        "cancelSource": "",
        "cancelSourceReason": "",
        "category": category[o.kind],
        "ccy": "",
        "clOrdId": "",
        "fee": wire_decimal(o.fee),
        "feeCcy": ccy,
        "fillPx": wire_decimal(o.price),
        "fillSz": wire_decimal(last.size),
        "fillTime": str(o.time_ms),
        "instId": o.instrument,
        "instType": inst_type,
        "isTpLimit": "false",
        "lever": "10",
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": o.order_id,
        "ordType": "market" if not system else "ioc",
        "pnl": wire_decimal(o.pnl),
        "posSide": "net",
        "px": "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": ccy,
        "reduceOnly": "true",
        "side": "sell",
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": "filled",
        "stpId": "",
        "stpMode": "",
        "sz": wire_decimal(o.size),
        "tag": "",
        "tdMode": td_mode,
        "tgtCcy": "",
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": "0" if system else str(last.trade_id),
        "tradeQuoteCcy": "USDT",
        "uTime": str(u_time),
    }
    book.orders.append(OwnedRecord(owner=o.owner.api_key, wire=wire))
    if not any(i.get("instId") == o.instrument for i in book.instruments):
        book.instruments.append(instrument_row(o.instrument))
    for index, trade in enumerate(o.trades):
        fill_time = o.time_ms - (len(o.trades) - 1 - index)
        fill = {
            "side": "sell",
            "fillSz": wire_decimal(trade.size),
            "fillPx": wire_decimal(o.price),
            "fillPxVol": "",
            "fillFwdPx": "",
            "fee": wire_decimal(trade.fee),
            "fillPnl": wire_decimal(trade.pnl),
            "ordId": o.order_id,
            "feeRate": "-0.0005",
            "instType": inst_type,
            "fillPxUsd": "",
            "instId": o.instrument,
            "clOrdId": "",
            "posSide": "net",
            "billId": str(trade.trade_id * 7),
            "subType": sub_type,
            "fillMarkVol": "",
            "tag": "",
            "fillTime": str(fill_time),
            "execType": "" if system else "T",
            "fillIdxPx": "",
            "tradeId": f"-{trade.trade_id}" if system else str(trade.trade_id),
            "fillMarkPx": wire_decimal(o.price),
            "feeCcy": ccy,
            # ts is when OKX generated the record, a little after the trade (fillTime).
            "ts": str(fill_time + 17),
            "tradeQuoteCcy": "USDT",
        }
        book.fills.append(OwnedRecord(owner=o.owner.api_key, wire=fill))
    penalty = o.penalty if td_mode == "isolated" else position_penalty
    if o.kind in ("full", "partial") and penalty is not None:
        book.positions.append(
            OwnedRecord(owner=o.owner.api_key, wire=_position_row(o, inst_type, ccy, td_mode, penalty))
        )


def _position_row(o: SimOrder, inst_type: str, ccy: str, td_mode: str, penalty: Decimal) -> dict[str, Any]:
    realized = o.pnl + o.fee + penalty if td_mode == "isolated" else o.pnl + o.fee
    return {
        "cTime": str(o.time_ms - 5 * 86_400_000),
        "ccy": ccy,
        "closeAvgPx": wire_decimal(o.price),
        "closeTotalPos": wire_decimal(o.size),
        "instId": o.instrument,
        "instType": inst_type,
        "lever": "10.0",
        "mgnMode": td_mode,
        "openAvgPx": wire_decimal(o.price),
        "openMaxPos": wire_decimal(o.size),
        "realizedPnl": wire_decimal(realized),
        "fee": wire_decimal(o.fee),
        "fundingFee": "0",
        "liqPenalty": wire_decimal(penalty),
        "pnl": wire_decimal(o.pnl),
        "pnlRatio": "-0.9",
        "posId": str(int(o.order_id) // 3),
        "posSide": "net",
        "direction": "long",
        "triggerPx": wire_decimal(o.price),
        "type": "3" if o.kind == "full" else "4",
        "uTime": str(o.time_ms + 2),
        "uly": "-".join(o.instrument.split("-")[:2]),
        "nonSettleAvgPx": "",
        "settledPnl": "",
    }


EXPIRED_FUTURES = "BTC-USDT-250926"
DELISTED_SWAP = "LUNA-USDT-SWAP"
INVERSE_SWAP = "BTC-USD-SWAP"


def publish_edge_cases(gen: ScenarioGenerator) -> None:
    """The okx rules the regular mix does not reach, one claim each (see ``generate_edge_cases``).

    Ages are relative to ``gen.now`` (the simulator's clock); every claim is filed an hour after its
    liquidation unless the case is about late filing.
    """
    owner, other = gen.accounts["okx"][:2]
    book = gen.okx
    book.delisted.extend([EXPIRED_FUTURES, DELISTED_SWAP])
    now_ms = gen.now * 1000

    def at(days: float) -> int:
        return now_ms - int(days * DAY_MS) - gen.rng.randint(0, 999)

    def liquidation(
        days: float, instrument: str = "BTC-USDT-SWAP", kind: str = "full", account: SimAccount = owner
    ) -> SimOrder:
        order = gen.order("okx", account, kind, time_ms=at(days))
        order.instrument = instrument
        return order

    def filed(order: SimOrder) -> int:
        return order.time_ms // 1000 + 3600

    def approved(order: SimOrder, scenario: str, **publish: Any) -> None:
        publish_order(book, order, **publish)
        gen.expect(order, scenario, reason=ReasonCode.APPROVED, submitted_at=filed(order))

    approved(liquidation(20), "live_20_days_fills_history")
    approved(liquidation(2, "ETH-USDT-SWAP"), "live_2_days_trade_fills")
    approved(liquidation(5, EXPIRED_FUTURES), "expired_futures_5_days_orders_history")
    approved(liquidation(40, DELISTED_SWAP), "delisted_swap_40_days_archive")

    missing = liquidation(10)  # never published: OKX does not know it
    gen.expect(
        missing,
        "unknown_order_10_days",
        reason=ReasonCode.ORDER_NOT_FOUND,
        submitted_at=filed(missing),
        evidence=False,
    )
    late = liquidation(100)
    gen.expect(
        late,
        "unknown_order_span_older_than_3_months",
        review_cause=ReviewCause.AGED_OUT.value,
        submitted_at=now_ms // 1000 - 95 * 86_400,
        evidence=False,
    )
    gone = liquidation(20, DELISTED_SWAP)
    gen.expect(
        gone,
        "delisted_not_in_any_history",
        review_cause=ReviewCause.INSTRUMENT_NOT_LIVE.value,
        submitted_at=filed(gone),
        evidence=False,
    )
    gone_long = liquidation(100, EXPIRED_FUTURES)
    gen.expect(
        gone_long,
        "delisted_older_than_3_months",
        review_cause=ReviewCause.AGED_OUT.value,
        submitted_at=now_ms // 1000 - 95 * 86_400,
        evidence=False,
    )

    inverse = liquidation(20, INVERSE_SWAP, account=other)
    publish_order(book, inverse)
    gen.expect(
        inverse,
        "inverse_settles_in_btc",
        reason=ReasonCode.UNSUPPORTED_SETTLEMENT,
        submitted_at=filed(inverse),
    )

    isolated = liquidation(20, "SOL-USDT-SWAP", account=other)
    isolated.penalty = -Decimal(gen.rng.randint(1_000, 90_000)) / 1000
    approved(isolated, "isolated_margin_liq_penalty", td_mode="isolated")

    cross = liquidation(20, "ETH-USDT-SWAP", account=other)
    approved(
        cross, "cross_margin_penalty_in_pnl", position_penalty=-Decimal(gen.rng.randint(1_000, 90_000)) / 1000
    )

    partial = liquidation(15, "SOL-USDT-SWAP", kind="partial")
    full = liquidation(15, "SOL-USDT-SWAP")
    full.time_ms = partial.time_ms + 30_000
    approved(partial, "partial_then_full__partial")
    approved(full, "partial_then_full__full")
