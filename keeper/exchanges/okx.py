"""OKX v5 adapter: order details cross-checked with the order's fills."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from pydantic import BaseModel, BeforeValidator, ConfigDict

from keeper.evidence import LiquidationEvidence, LiquidationKind, exact_sum, loss_from
from keeper.exchanges.base import (
    ExchangeAdapter,
    WireDecimal,
    WireModel,
    empty_is_zero,
    parse_json,
    parse_model,
)
from keeper.exchanges.errors import (
    AuthenticationError,
    InconsistentEvidenceError,
    MalformedResponseError,
    OrderNotFoundError,
    RateLimitedError,
    TransientError,
)
from keeper.interface import Exchange
from keeper.limits import EndpointRate
from keeper.transport import RawResponse

ORDER_PATH = "/api/v5/trade/order"
FILLS_PATH = "/api/v5/trade/fills-history"
MAX_FILLS = 100

# Published per-user limits (requests per 2 s) of the endpoints we call.
RATES: dict[str, EndpointRate] = {
    "trade/order": EndpointRate(60, 2000),
    "trade/fills-history": EndpointRate(10, 2000),
}
DEFAULT_RATE = EndpointRate(10, 2000)

AUTH_CODES = frozenset(
    {
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
TRANSIENT_CODES = frozenset({"50001", "50004", "50026", "50102"})  # 50102: our request aged in transit
NOT_FOUND_CODES = frozenset({"51603", "51001"})

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
    fill_time: Annotated[int, BeforeValidator(empty_is_zero)] = 0


class OkxFill(WireModel):
    ord_id: str
    trade_id: str
    sub_type: str
    fill_sz: WireDecimal
    fill_px: WireDecimal
    ts: int


class OkxAdapter(ExchangeAdapter):
    exchange: ClassVar[Exchange] = Exchange.OKX

    def fetch_evidence(self, order_id: str, instrument: str) -> LiquidationEvidence:
        order_raw = self._get(
            ORDER_PATH, [("instId", instrument), ("ordId", order_id)], "trade/order", instrument
        )
        order_rows = self._data(order_raw)
        if len(order_rows) != 1:
            raise self._malformed(order_raw, f"expected exactly one order, got {len(order_rows)}")
        order = parse_model(OkxOrder, order_rows[0], order_raw, self.exchange.slug)
        if order.ord_id != order_id or order.inst_id != instrument:
            raise self._inconsistent(
                order_raw, f"asked for {order_id}/{instrument}, got {order.ord_id}/{order.inst_id}"
            )

        inst_type = str(order_rows[0].get("instType") or "SWAP")
        fills_raw = self._get(
            FILLS_PATH,
            [("instType", inst_type), ("instId", instrument), ("ordId", order_id), ("limit", str(MAX_FILLS))],
            "trade/fills-history",
        )
        fill_rows = self._data(fills_raw)
        if len(fill_rows) >= MAX_FILLS:
            raise self._inconsistent(
                fills_raw, f"{len(fill_rows)} fills: paging is not supported, review by hand"
            )
        fills = [parse_model(OkxFill, row, fills_raw, self.exchange.slug) for row in fill_rows]

        kind = CATEGORY_KIND.get(order.category, LiquidationKind.NONE)
        self._cross_check(kind, order, fills, fills_raw)
        penalty = Decimal(0)  # OKX folds the liquidation penalty into the order's pnl (cross margin).
        return LiquidationEvidence(
            exchange=self.exchange,
            order_id=order.ord_id,
            instrument=order.inst_id,
            liquidation=kind,
            liquidation_time_ms=max([f.ts for f in fills], default=order.fill_time or order.u_time),
            filled_size=order.acc_fill_sz,
            average_price=order.avg_px,
            realized_pnl=order.pnl,
            fees=order.fee,
            liquidation_penalty=penalty,
            settlement_currency=order.fee_ccy,
            loss=loss_from(order.pnl, order.fee, penalty),
            response_digests={order_raw.endpoint: order_raw.sha256, fills_raw.endpoint: fills_raw.sha256},
        )

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
        if kind is not LiquidationKind.NONE and not fills:
            raise self._inconsistent(raw, f"{order.category} order {order.ord_id} has no fills")
        filled = exact_sum(f.fill_sz for f in fills)
        if fills and filled != order.acc_fill_sz:
            raise self._inconsistent(
                raw, f"fills add up to {filled}, order says accFillSz {order.acc_fill_sz}"
            )

    def _get(
        self, path: str, params: list[tuple[str, str]], endpoint_key: str, instrument: str = ""
    ) -> RawResponse:
        request_path = f"{path}?{urlencode(params)}"
        timestamp = okx_timestamp(self._clock())
        creds = self._credentials
        passphrase = creds.passphrase.get_secret_value() if creds.passphrase else ""
        headers = {
            "OK-ACCESS-KEY": creds.api_key.get_secret_value(),
            "OK-ACCESS-SIGN": okx_signature(
                timestamp, "GET", request_path, "", creds.secret.get_secret_value()
            ),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": passphrase,
            "Accept": "application/json",
        }
        # Limits are per user (and per instrument for trade/order): key the bucket the same way.
        user = hashlib.sha256(creds.api_key.get_secret_value().encode()).hexdigest()[:12]
        key = f"{endpoint_key}|{user}" + (f":{instrument}" if instrument else "")
        return self._transport.get(path, urlencode(params), headers, key)

    def _data(self, raw: RawResponse) -> list[dict[str, Any]]:
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
        if code in NOT_FOUND_CODES:
            raise OrderNotFoundError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in AUTH_CODES:
            raise AuthenticationError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in RATE_LIMIT_CODES or raw.status == 429:
            raise RateLimitedError(slug, raw.endpoint, f"code {code}: {msg}")
        if code in TRANSIENT_CODES or raw.status >= 500:
            raise TransientError(slug, raw.endpoint, f"HTTP {raw.status} code {code}: {msg}")
        if code != "0" or raw.status != 200 or not isinstance(envelope.data, list):
            raise self._malformed(raw, f"HTTP {raw.status} code {code}: {msg}")
        return envelope.data

    def _inconsistent(self, raw: RawResponse, detail: str) -> InconsistentEvidenceError:
        error = InconsistentEvidenceError(self.exchange.slug, raw.endpoint, detail, raw.body)
        self._transport.save_malformed(error)
        return error
