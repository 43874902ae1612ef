"""OKX v5 adapter: the order (order details, or the order history for an instrument no longer live), its
instrument's settlement currency, its fills, and the isolated-margin liquidation penalty."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from pydantic import BaseModel, BeforeValidator, ConfigDict

from keeper.evidence import LiquidationEvidence, LiquidationKind, exact_sum, loss_from
from keeper.exchanges.base import (
    ExchangeAdapter,
    OrderQuery,
    WireDecimal,
    WireModel,
    empty_is_zero,
    parse_json,
    parse_model,
)
from keeper.exchanges.errors import (
    AuthenticationError,
    ClockSkewError,
    InconsistentEvidenceError,
    MalformedResponseError,
    NeedsReviewError,
    OrderNotFoundError,
    RateLimitedError,
    ReviewCause,
    TransientError,
)
from keeper.exchanges.limits import EndpointRate, LimiterNeed
from keeper.exchanges.transport import RawResponse
from keeper.interface import Exchange

ORDER_PATH = "/api/v5/trade/order"
ORDERS_HISTORY_PATH = "/api/v5/trade/orders-history"
ORDERS_ARCHIVE_PATH = "/api/v5/trade/orders-history-archive"
FILLS_RECENT_PATH = "/api/v5/trade/fills"
FILLS_PATH = "/api/v5/trade/fills-history"
INSTRUMENTS_PATH = "/api/v5/public/instruments"
POSITIONS_HISTORY_PATH = "/api/v5/account/positions-history"
PAGE_LIMIT = 100
MAX_FILLS = PAGE_LIMIT
MAX_PAGES = 10
"""History pages read per look-up (1000 orders or fills); more goes to a person rather than on for ever."""

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Retention of each endpoint (OKX docs: order history "last 7 days" / "last 3 months", fills "last 3 days" /
# "last 3 months", positions history "last 3 months"). Three calendar months are at least 89 days; absence is
# only proof when the whole span is inside the retention minus RETENTION_MARGIN_MS (clock skew, the exchange's
# own cut-off rounding).
ORDERS_HISTORY_RETENTION_MS = 7 * DAY_MS
ARCHIVE_RETENTION_MS = 89 * DAY_MS
FILLS_RECENT_RETENTION_MS = 3 * DAY_MS
FILLS_HISTORY_RETENTION_MS = 89 * DAY_MS
RETENTION_MARGIN_MS = HOUR_MS
CTIME_SLACK_MS = HOUR_MS
"""History is filtered on the order's cTime, which precedes its fill: start the window this much earlier."""
PENALTY_MATCH_MS = 60_000
"""An isolated position's liquidation row is updated when the liquidation fills: its uTime is this close."""

# Published per-user limits (requests per 2 s) of the endpoints we call; public/instruments is per IP and
# instType (20 / 2 s), keyed per instType below.
RATES: dict[str, EndpointRate] = {
    "trade/order": EndpointRate(60, 2000),
    "trade/orders-history": EndpointRate(40, 2000),
    "trade/orders-history-archive": EndpointRate(20, 2000),
    "trade/fills": EndpointRate(60, 2000),
    "trade/fills-history": EndpointRate(10, 2000),
    "account/positions-history": EndpointRate(10, 2000),
    "public/instruments": EndpointRate(20, 2000),
}
DEFAULT_RATE = EndpointRate(10, 2000)

AUTH_CODES = frozenset(
    {
        "50100",  # API frozen: an operator must contact OKX; retrying or a person's review cannot fix it
        "50101",
        "50103",
        "50104",
        "50105",
        "50106",
        "50107",
        "50110",
        "50111",
        "50112",
        "50113",
        "50114",
        "50119",
        "50120",
    }
)
RATE_LIMIT_CODES = frozenset({"50011", "50013", "50061"})
TRANSIENT_CODES = frozenset({"50001", "50004", "50026"})
CLOCK_SKEW_CODES = frozenset({"50102"})  # our timestamp is more than 30 s off the server's
ORDER_UNKNOWN = "51603"
INSTRUMENT_REUSE_MS = 10 * 60 * 1000
"""How long one public/instruments answer serves every claim on that instrument. The settleCcy of an instId
never changes, but the listing does (an expired future answers 51001): a fresh read every 10 minutes sees
it. public/instruments is limited per IP (20 / 2 s), so a crash-day burst on one instrument must not ask once
per claim."""
INSTRUMENT_NOT_LIVE = "51001"
"""trade/order only serves live instruments: an expired FUTURES or a delisted SWAP answers this."""
NOT_FOUND_CODES = frozenset({ORDER_UNKNOWN, INSTRUMENT_NOT_LIVE})

CATEGORY_KIND = {
    "full_liquidation": LiquidationKind.FULL,
    "partial_liquidation": LiquidationKind.PARTIAL,
    "adl": LiquidationKind.ADL,
}
SUBTYPE_KIND = {
    **{str(code): LiquidationKind.PARTIAL for code in range(100, 104)},
    **{str(code): LiquidationKind.FULL for code in range(104, 108)},
    **{str(code): LiquidationKind.ADL for code in range(125, 129)},
}
LIQUIDATION_POSITION_TYPES = frozenset({"3", "4"})  # positions-history type: 3 liquidation, 4 partial
_DATED = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+-\d{6}$")
_OPTION = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+-\d{6}-[0-9.]+-[CP]$")


def inst_type_of(instrument: str) -> str:
    """The instType an instrument id belongs to (history endpoints require it): ``BTC-USDT-SWAP`` is SWAP,
    ``BTC-USD-240927`` FUTURES, ``BTC-USD-240927-60000-C`` OPTION, ``BTC-USDT`` MARGIN (spot margin)."""
    upper = instrument.upper()
    if upper.endswith("-SWAP"):
        return "SWAP"
    if _OPTION.match(upper):
        return "OPTION"
    if _DATED.match(upper):
        return "FUTURES"
    return "MARGIN"


def okx_signature(timestamp: str, method: str, request_path: str, body: str, secret: str) -> str:
    """base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath(+?query) + body))."""
    prehash = f"{timestamp}{method.upper()}{request_path}{body}"
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def okx_timestamp(now: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as OK-ACCESS-TIMESTAMP wants it."""
    utc = now.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _code_as_text(value: object) -> object:
    # Every documented code is a string; the 404 body for an unknown path carries a number.
    return str(value) if isinstance(value, int) else value


class OkxEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: Annotated[str, BeforeValidator(_code_as_text)]
    msg: str = ""
    data: Any = None  # a list on success; absent on auth errors, an object on 404


class OkxOrder(WireModel):
    inst_id: str
    ord_id: str
    category: str
    state: str
    acc_fill_sz: WireDecimal
    avg_px: WireDecimal
    fee: WireDecimal
    fee_ccy: str
    pnl: WireDecimal
    u_time: int
    c_time: Annotated[int, BeforeValidator(empty_is_zero)] = 0
    fill_time: Annotated[int, BeforeValidator(empty_is_zero)] = 0
    td_mode: str = ""
    inst_type: str = ""


class OkxFill(WireModel):
    ord_id: str
    trade_id: str
    bill_id: str = ""
    sub_type: str
    fill_sz: WireDecimal
    fill_px: WireDecimal
    fill_pnl: WireDecimal = Decimal(0)
    fee: WireDecimal = Decimal(0)
    fee_ccy: str = ""
    ts: int
    fill_time: Annotated[int, BeforeValidator(empty_is_zero)] = 0

    @property
    def traded_at(self) -> int:
        # ``ts`` is when OKX generated the record; ``fillTime`` is the trade (docs, fills page).
        return self.fill_time or self.ts


class OkxInstrument(WireModel):
    inst_id: str
    inst_type: str
    ct_type: str = ""
    settle_ccy: str = ""
    state: str = ""


class OkxPosition(WireModel):
    inst_id: str
    mgn_mode: str
    type: str
    u_time: int
    liq_penalty: WireDecimal = Decimal(0)
    ccy: str = ""
    pos_id: str = ""


class OkxAdapter(ExchangeAdapter):
    """Order details (or the order history when the instrument is no longer live), the instrument's
    settlement currency, the fills, and for isolated margin the position's liquidation penalty.

    Retention decisions use the time each not-found answer was observed (``RawAnswer.observed_at_ms``), so a
    replay over the recorded answers takes exactly the same path.
    """

    exchange: ClassVar[Exchange] = Exchange.OKX
    retention_ms: ClassVar[int] = ARCHIVE_RETENTION_MS

    def fetch_evidence(self, query: OrderQuery) -> LiquidationEvidence:
        inst_type = inst_type_of(query.instrument)
        order_row, order_raw = self._find_order(query, inst_type)
        order = parse_model(OkxOrder, order_row, order_raw, self.exchange.slug)
        if order.ord_id != query.order_id or order.inst_id != query.instrument:
            raise self._inconsistent(
                order_raw,
                f"asked for {query.order_id}/{query.instrument}, got {order.ord_id}/{order.inst_id}",
            )
        inst_type = order.inst_type or inst_type
        settlement, settlement_source = self._settlement_currency(order, inst_type)
        fills, fills_raw = self._fills(order, inst_type)

        kind = CATEGORY_KIND.get(order.category, LiquidationKind.NONE)
        self._cross_check(kind, order, fills, fills_raw)
        liquidated_at = max([f.traded_at for f in fills], default=order.fill_time or order.u_time)
        margin_mode = order.td_mode or "cross"
        penalty, penalty_ccy = Decimal(0), order.fee_ccy
        if margin_mode == "isolated" and kind.is_forced_liquidation:
            penalty, penalty_ccy = self._isolated_penalty(order, inst_type, liquidated_at, settlement)
        # Cross margin: OKX folds the liquidation penalty into the order's pnl (orders channel docs), so
        # positions-history's liqPenalty is not added again.
        return LiquidationEvidence(
            exchange=self.exchange,
            order_id=order.ord_id,
            instrument=order.inst_id,
            liquidation=kind,
            liquidation_time_ms=liquidated_at,
            filled_size=order.acc_fill_sz,
            average_price=order.avg_px,
            realized_pnl=order.pnl,
            fees=order.fee,
            liquidation_penalty=penalty,
            settlement_currency=settlement,
            settlement_source=settlement_source,
            fee_currency=order.fee_ccy,
            penalty_currency=penalty_ccy,
            loss=loss_from(order.pnl, order.fee, penalty),
            margin_mode=margin_mode,
        )

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        """trade/order (per user and instrument) and the fills endpoint an order in the claim's span would
        be read from (``_fills``' choice, taken on the span's start). public/instruments is left out: the
        usual claim reuses a shared answer (``INSTRUMENT_REUSE_MS``) and takes nothing from its limit."""
        recent = query.not_before_ms >= self.now_ms() - FILLS_RECENT_RETENTION_MS + RETENTION_MARGIN_MS
        fills = "trade/fills" if recent else "trade/fills-history"
        return (
            LimiterNeed(self._limiter_key("trade/order", query.instrument)),
            LimiterNeed(self._limiter_key(fills)),
        )

    # ------------------------------------------------------------------------------------------ the order

    def _find_order(self, query: OrderQuery, inst_type: str) -> tuple[dict[str, Any], RawResponse]:
        """The order's row: trade/order for a live instrument, else the history that covers the span."""
        raw = self._get(
            ORDER_PATH,
            [("instId", query.instrument), ("ordId", query.order_id)],
            "trade/order",
            query.instrument,
        )
        code, rows = self._data(raw, tolerate=NOT_FOUND_CODES)
        if code == "0":
            if len(rows) != 1:
                raise self._malformed(raw, f"expected exactly one order, got {len(rows)}")
            return rows[0], raw
        instrument_live = code != INSTRUMENT_NOT_LIVE
        asked: list[str] = []  # every history that answered "absent"
        covered = False  # one of them keeps the whole span: absence there is proof
        last = raw
        for path, key, retention in (
            (ORDERS_HISTORY_PATH, "trade/orders-history", ORDERS_HISTORY_RETENTION_MS),
            (ORDERS_ARCHIVE_PATH, "trade/orders-history-archive", ARCHIVE_RETENTION_MS),
        ):
            if query.not_after_ms < self.answers[-1].observed_at_ms - retention:
                continue  # the whole span is older than this endpoint keeps: asking proves nothing
            found, last, history_live = self._search_history(path, key, query, inst_type)
            instrument_live = instrument_live and history_live
            if found is not None:
                return found, last
            asked.append(key)
            if query.not_before_ms >= self.answers[-1].observed_at_ms - retention + RETENTION_MARGIN_MS:
                covered = True
                break  # no need for the archive
        now = self.answers[-1].observed_at_ms
        slug, endpoint = self.exchange.slug, last.endpoint
        where = ", ".join(asked) or "none (the span is older than each one keeps)"
        span = f"span {query.not_before_ms}..{query.not_after_ms} ms, now {now} ms"
        if not covered:
            raise NeedsReviewError(
                slug,
                endpoint,
                ReviewCause.AGED_OUT,
                f"order {query.order_id} not found: trade/order answered {code}, histories asked: {where}; "
                f"{span}: part of it is older than OKX keeps, so absence proves nothing",
            )
        if not instrument_live:
            raise NeedsReviewError(
                slug,
                endpoint,
                ReviewCause.INSTRUMENT_NOT_LIVE,
                f"instrument {query.instrument} is not live (51001) and order {query.order_id} is in no "
                f"history ({where}); {span}",
            )
        raise OrderNotFoundError(
            slug,
            endpoint,
            f"order {query.order_id} on live {query.instrument}: 51603 and absent from {where}, which keep "
            f"the whole {span}",
        )

    def _search_history(
        self, path: str, key: str, query: OrderQuery, inst_type: str
    ) -> tuple[dict[str, Any] | None, RawResponse, bool]:
        """(the order's row or None, the last answer, whether the instrument id is known to the history)."""
        params = [
            ("instType", inst_type),
            ("instId", query.instrument),
            ("begin", str(max(0, query.not_before_ms - CTIME_SLACK_MS))),
            ("end", str(query.not_after_ms)),
            ("limit", str(PAGE_LIMIT)),
        ]
        after: str | None = None
        for _ in range(MAX_PAGES):
            raw = self._get(path, params + ([("after", after)] if after else []), key)
            code, rows = self._data(raw, tolerate=frozenset({INSTRUMENT_NOT_LIVE}))
            if code == INSTRUMENT_NOT_LIVE:
                return None, raw, False
            for row in rows:
                if not isinstance(row, dict):
                    raise self._malformed(raw, f"order history row is not an object: {row!r}")
                if row.get("ordId") == query.order_id and row.get("instId") == query.instrument:
                    return row, raw, True
            if len(rows) < PAGE_LIMIT:
                return None, raw, True
            after = str(rows[-1].get("ordId") or "")
            if not after:
                raise self._malformed(raw, "a full history page whose last row has no ordId to page after")
        raise NeedsReviewError(
            self.exchange.slug,
            f"GET {path}",
            ReviewCause.INCONSISTENT_EVIDENCE,
            f"more than {MAX_PAGES * PAGE_LIMIT} orders on {query.instrument} in the claim's span",
        )

    # ------------------------------------------------------------------------------ instrument and fills

    def _settlement_currency(self, order: OkxOrder, inst_type: str) -> tuple[str, str]:
        """settleCcy from public/instruments (inverse contracts settle in the coin, ``ctType`` inverse).

        That endpoint lists live instruments only: for an expired or delisted one the order's own feeCcy
        stands in (OKX charges derivative fees in the settlement currency); the evidence says which source
        (``settlement_source``), and the instruments answer (51001 or an empty list) is on record.
        """
        raw = self._get(
            INSTRUMENTS_PATH,
            [("instType", inst_type), ("instId", order.inst_id)],
            "public/instruments",
            scope=inst_type,
            signed=False,
            shared_for_ms=INSTRUMENT_REUSE_MS,
        )
        code, rows = self._data(raw, tolerate=frozenset({INSTRUMENT_NOT_LIVE}))
        if code == INSTRUMENT_NOT_LIVE or not rows:
            return order.fee_ccy, "order_fee_ccy"
        if len(rows) != 1:
            raise self._malformed(raw, f"expected one instrument {order.inst_id}, got {len(rows)}")
        instrument = parse_model(OkxInstrument, rows[0], raw, self.exchange.slug)
        if instrument.inst_id != order.inst_id:
            raise self._inconsistent(raw, f"asked for instrument {order.inst_id}, got {instrument.inst_id}")
        if not instrument.settle_ccy:
            raise self._malformed(raw, f"instrument {order.inst_id} has no settleCcy")
        return instrument.settle_ccy, "instrument"

    def _fills(self, order: OkxOrder, inst_type: str) -> tuple[list[OkxFill], RawResponse]:
        """trade/fills keeps 3 days and has the higher limit; older orders need fills-history (3 months)."""
        now = self.answers[-1].observed_at_ms
        placed = order.c_time or order.fill_time or order.u_time
        recent = placed >= now - FILLS_RECENT_RETENTION_MS + RETENTION_MARGIN_MS
        path, key = (FILLS_RECENT_PATH, "trade/fills") if recent else (FILLS_PATH, "trade/fills-history")
        params = [("instType", inst_type), ("instId", order.inst_id), ("ordId", order.ord_id)]
        params.append(("limit", str(PAGE_LIMIT)))
        fills: list[OkxFill] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            raw = self._get(path, params + ([("after", after)] if after else []), key)
            _, rows = self._data(raw)
            page = [parse_model(OkxFill, row, raw, self.exchange.slug) for row in rows]
            fills.extend(page)
            if len(page) < PAGE_LIMIT:
                return fills, raw
            after = page[-1].bill_id
            if not after:
                raise self._malformed(raw, "a full fills page whose last fill has no billId to page after")
        raise self._inconsistent(raw, f"more than {MAX_PAGES * PAGE_LIMIT} fills for {order.ord_id}")

    def _isolated_penalty(
        self, order: OkxOrder, inst_type: str, liquidated_at: int, settlement: str
    ) -> tuple[Decimal, str]:
        """Isolated margin: the penalty is not in the order's pnl; positions-history's liqPenalty is. Exactly
        one isolated liquidation row of the instrument updated at the liquidation, or a person decides."""
        raw = self._get(
            POSITIONS_HISTORY_PATH,
            [
                ("instType", inst_type),
                ("instId", order.inst_id),
                ("mgnMode", "isolated"),
                ("after", str(liquidated_at + PENALTY_MATCH_MS + 1)),
                ("before", str(max(0, liquidated_at - PENALTY_MATCH_MS - 1))),
                ("limit", str(PAGE_LIMIT)),
            ],
            "account/positions-history",
        )
        _, rows = self._data(raw)
        positions = [parse_model(OkxPosition, row, raw, self.exchange.slug) for row in rows]
        matching = [
            p
            for p in positions
            if p.inst_id == order.inst_id
            and p.mgn_mode == "isolated"
            and p.type in LIQUIDATION_POSITION_TYPES
            and abs(p.u_time - liquidated_at) <= PENALTY_MATCH_MS
        ]
        if len(matching) != 1:
            raise NeedsReviewError(
                self.exchange.slug,
                raw.endpoint,
                ReviewCause.UNMATCHED_PENALTY,
                f"{len(matching)} isolated liquidation rows of {order.inst_id} within {PENALTY_MATCH_MS} ms "
                f"of {liquidated_at} for order {order.ord_id}: the penalty cannot be tied to it",
            )
        position = matching[0]
        if position.liq_penalty > 0:
            raise self._inconsistent(raw, f"liqPenalty {position.liq_penalty} is positive (docs: negative)")
        return position.liq_penalty, position.ccy or settlement

    def _cross_check(
        self, kind: LiquidationKind, order: OkxOrder, fills: list[OkxFill], raw: RawResponse
    ) -> None:
        for fill in fills:
            fill_kind = SUBTYPE_KIND.get(fill.sub_type, LiquidationKind.NONE)
            system_fill = fill.trade_id.startswith("-")
            if (
                fill.ord_id != order.ord_id
                or fill_kind is not kind
                or system_fill != (kind is not LiquidationKind.NONE)
            ):
                raise self._inconsistent(
                    raw,
                    f"order category {order.category!r} but fill {fill.trade_id} has subType {fill.sub_type}",
                )
            if fill.fee_ccy and fill.fee_ccy != order.fee_ccy:
                raise self._inconsistent(
                    raw, f"fill {fill.trade_id} charged in {fill.fee_ccy}, the order in {order.fee_ccy}"
                )
        if kind is not LiquidationKind.NONE and not fills:
            raise self._inconsistent(raw, f"{order.category} order {order.ord_id} has no fills")
        if not fills:
            return
        filled = exact_sum(f.fill_sz for f in fills)
        if filled != order.acc_fill_sz:
            raise self._inconsistent(
                raw, f"fills add up to {filled}, order says accFillSz {order.acc_fill_sz}"
            )
        # The order's fee is the accumulated fee of its fills (order details docs).
        fees = exact_sum(f.fee for f in fills)
        if fees != order.fee:
            raise self._inconsistent(raw, f"fill fees add up to {fees}, order says fee {order.fee}")
        # For a cross-margin liquidation the order's pnl also carries the penalty, which no fill's fillPnl is
        # documented to include: the sums are only compared for isolated margin and ordinary closes.
        if order.td_mode != "cross" or kind is LiquidationKind.NONE:
            pnl = exact_sum(f.fill_pnl for f in fills)
            if pnl != order.pnl:
                raise self._inconsistent(raw, f"fills' fillPnl add up to {pnl}, order says pnl {order.pnl}")

    # ------------------------------------------------------------------------------------------- the wire

    def _get(
        self,
        path: str,
        params: list[tuple[str, str]],
        endpoint_key: str,
        instrument: str = "",
        *,
        scope: str = "",
        signed: bool = True,
        shared_for_ms: int = 0,
    ) -> RawResponse:
        """A GET of ``path``; ``shared_for_ms``: a public answer another account's adapter read that recently
        is reused (``ExchangeAdapter._fetch_shared``)."""
        creds = self._credentials

        def sign(query: str) -> tuple[str, Mapping[str, str]]:
            if not signed:  # public endpoint: no credentials leave the process
                return query, {"Accept": "application/json"}
            timestamp = okx_timestamp(self._clock())
            passphrase = creds.passphrase.get_secret_value() if creds.passphrase else ""
            headers = {
                "OK-ACCESS-KEY": creds.api_key.get_secret_value(),
                "OK-ACCESS-SIGN": okx_signature(
                    timestamp, "GET", f"{path}?{query}", "", creds.secret.get_secret_value()
                ),
                "OK-ACCESS-TIMESTAMP": timestamp,
                "OK-ACCESS-PASSPHRASE": passphrase,
                "Accept": "application/json",
            }
            return query, headers

        key = self._limiter_key(endpoint_key, instrument, scope=scope if not signed else None)
        if shared_for_ms and not signed:
            return self._fetch_shared(path, urlencode(params), sign, key, shared_for_ms, _one_live_row)
        return self._fetch(path, urlencode(params), sign, key)

    def _limiter_key(self, endpoint_key: str, instrument: str = "", *, scope: str | None = None) -> str:
        """Limits are per user (and per instrument for trade/order): key the bucket the same way. Public
        endpoints (``scope`` given) are limited per IP: one bucket per scope for the whole process."""
        if scope is not None:
            return f"{endpoint_key}|{scope}"
        user = hashlib.sha256(self._credentials.api_key.get_secret_value().encode()).hexdigest()[:12]
        return f"{endpoint_key}|{user}" + (f":{instrument}" if instrument else "")

    def _data(
        self, raw: RawResponse, tolerate: frozenset[str] = frozenset()
    ) -> tuple[str, list[dict[str, Any]]]:
        """(code, data) of a successful answer or of one of the ``tolerate`` codes; any other code raises."""
        slug = self.exchange.slug
        if raw.status >= 500 and not raw.body.lstrip().startswith(b"{"):
            raise TransientError(slug, raw.endpoint, f"HTTP {raw.status}")
        if raw.status == 429 and not raw.body.strip():
            raise RateLimitedError(slug, raw.endpoint, "HTTP 429")
        try:
            envelope = parse_model(OkxEnvelope, parse_json(raw, slug), raw, slug)
        except MalformedResponseError as exc:
            if raw.status >= 500:
                raise TransientError(slug, raw.endpoint, f"HTTP {raw.status}") from None
            raise self._transport.save_malformed(exc) from None
        code, msg = envelope.code, envelope.msg
        if code in tolerate and raw.status == 200:
            return code, []
        if code in NOT_FOUND_CODES:
            # Not tolerated here: the order was found a step earlier, so "does not exist" now contradicts it.
            raise self._inconsistent(raw, f"code {code}: {msg}")
        if code in AUTH_CODES:
            raise AuthenticationError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in RATE_LIMIT_CODES or raw.status == 429:
            raise RateLimitedError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in CLOCK_SKEW_CODES:
            raise ClockSkewError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in TRANSIENT_CODES or raw.status >= 500:
            raise TransientError(slug, raw.endpoint, f"HTTP {raw.status} code {code}: {msg}")
        if code != "0" or raw.status != 200 or not isinstance(envelope.data, list):
            raise self._malformed(raw, f"HTTP {raw.status} code {code}: {msg}")
        return code, envelope.data

    def _inconsistent(self, raw: RawResponse, detail: str) -> InconsistentEvidenceError:
        error = InconsistentEvidenceError(self.exchange.slug, raw.endpoint, detail, raw.body)
        self._transport.save_malformed(error)
        return error


def _one_live_row(raw: RawResponse) -> bool:
    """Whether an instruments answer may serve other claims: HTTP 200, code "0", exactly one row (what
    ``_settlement_currency`` reads a settleCcy from); anything else is asked again by the next claim."""
    if raw.status != 200:
        return False
    try:
        body = json.loads(raw.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and body.get("code") == "0" and len(body.get("data") or []) == 1
