"""Bybit v5 adapter: signatures (HMAC and RSA), liquidation kinds, retention, settlement, fees, error codes
and replay, against a small in-process exchange that answers in Bybit's documented wire format.

The fake exchange only filters rows the way the docs say the endpoints do (order history by orderId and
createdTime window, executions by orderId alone, the transaction log by window and currency); every number the
tests assert is written out by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from support.factories import claim, make_settings, observed_verdict, policy, wanted_verdict

from keeper.evidence import ClaimInput, LiquidationKind, ReviewCause
from keeper.exchanges.answers import ReplayTransport, request_key
from keeper.exchanges.base import OrderQuery
from keeper.exchanges.bybit import (
    DAY_MS,
    MAX_WINDOW_MS,
    BybitAdapter,
    category_of,
    hmac_signature,
    server_time,
)
from keeper.exchanges.errors import (
    AuthenticationError,
    BackOffError,
    ClockSkewError,
    Disposition,
    ExchangeError,
    InconsistentEvidenceError,
    MalformedResponseError,
    NeedsReviewError,
    OrderNotFoundError,
    RateLimitedError,
    TransientError,
)
from keeper.exchanges.registry import (
    ADAPTERS,
    WIRE_RULES,
    AdapterRegistry,
    TransportFactory,
    bybit_ban_until,
    bybit_factory,
)
from keeper.exchanges.transport import RawResponse, SignRequest
from keeper.exchanges.verifier import Verifier, fetch
from keeper.interface import Exchange, ReasonCode
from keeper.policy import Decision, PolicyParams, ReviewNeeded, decision_for
from keeper.settings import AccountCredentials, AccountRegistry, AccountsFileError, KeeperSettings
from keeper.sim.faults import FaultConfig
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

NOW_MS = 1_790_000_000_000
LIQ_MS = NOW_MS - 2 * DAY_MS
API_KEY = "bybit-test-key-0001"
SECRET = "bybit-test-secret-do-not-log"
ACCOUNT_REF = "0x" + "cd" * 32


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def hmac_credentials() -> AccountCredentials:
    return AccountCredentials.model_validate({"exchange": "bybit", "api_key": API_KEY, "secret": SECRET})


def rsa_credentials(key: rsa.RSAPrivateKey) -> AccountCredentials:
    return AccountCredentials.model_validate(
        {"exchange": "bybit", "api_key": API_KEY, "private_key_pem": _pem(key)}
    )


# ------------------------------------------------------------------------------------------ wire rows


def order_row(
    order_id: str = "liq-1",
    symbol: str = "BTCUSDT",
    create_type: str = "CreateByTakeOver_PassThrough",
    qty: str = "0.5",
    fee: str = "16.5",
    created: int = LIQ_MS - 5,
    updated: int = LIQ_MS + 20,
) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "orderLinkId": "",
        "symbol": symbol,
        "side": "Sell",
        "orderStatus": "Filled",
        "createType": create_type,
        "avgPrice": "60000",
        "qty": qty,
        "cumExecQty": qty,
        "cumExecValue": "30000",
        "cumExecFee": fee,
        "orderType": "Market",
        "createdTime": str(created),
        "updatedTime": str(updated),
    }


def execution_row(
    exec_id: str,
    qty: str,
    fee: str,
    exec_type: str = "BustTrade",
    order_id: str = "liq-1",
    symbol: str = "BTCUSDT",
    exec_time: int = LIQ_MS,
    fee_currency: str = "USDT",
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "orderId": order_id,
        "orderLinkId": "",
        "side": "Sell",
        "execId": exec_id,
        "execPrice": "60000",
        "execQty": qty,
        "execValue": "12000",
        "execType": exec_type,
        "execFee": fee,
        "feeCurrency": fee_currency,
        "feeRate": "0.00055",
        "isMaker": False,
        "markPrice": "60010",
        "closedSize": qty,
        "seq": 4688002127,
        "execTime": str(exec_time),
    }


def log_row(
    trade_id: str,
    cash_flow: str,
    fee: str,
    type_: str = "LIQUIDATION",
    order_id: str = "liq-1",
    symbol: str = "BTCUSDT",
    currency: str = "USDT",
    at: int = LIQ_MS,
    change: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"592324_{symbol}_{trade_id}",
        "symbol": symbol,
        "category": "linear",
        "side": "Sell",
        "transactionTime": str(at),
        "type": type_,
        "qty": "0.2",
        "size": "0",
        "currency": currency,
        "tradePrice": "60000",
        "funding": "",
        "fee": fee,
        "cashFlow": cash_flow,
        "change": change if change is not None else str(Decimal(cash_flow) - Decimal(fee)),
        "cashBalance": "5086.55",
        "feeRate": "0.00055",
        "bonusChange": "",
        "tradeId": trade_id,
        "orderId": order_id,
        "orderLinkId": "",
    }


def takeover_book() -> dict[str, list[dict[str, Any]]]:
    """A takeover of 0.5 BTCUSDT in two BustTrade fills: P&L -400 - 600, fees 6.6 + 9.9 (charges)."""
    return {
        "orders": [order_row()],
        "executions": [execution_row("e-1", "0.2", "6.6"), execution_row("e-2", "0.3", "9.9")],
        "logs": [
            log_row("e-1", "-400", "6.6"),
            log_row("e-2", "-600", "9.9"),
            log_row("other", "-5", "1", type_="TRADE", order_id="someone-else"),
        ],
    }


def envelope(rows: list[dict[str, Any]], category: str = "linear", cursor: str = "") -> bytes:
    body = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"category": category, "list": rows, "nextPageCursor": cursor},
        "retExtInfo": {},
        "time": NOW_MS,
    }
    return json.dumps(body).encode()


def error_body(code: int, msg: str) -> bytes:
    return json.dumps(
        {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": NOW_MS}
    ).encode()


Override = Callable[[str, dict[str, str]], tuple[int, bytes] | None]


class FakeBybit:
    """Answers like Bybit v5; records every request and the headers ``sign`` produced for it."""

    exchange = "bybit"

    def __init__(self, book: dict[str, list[dict[str, Any]]], override: Override | None = None) -> None:
        self.book = book
        self.override = override
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.signed: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, query: str, sign: SignRequest, limiter_key: str, weight: int = 1) -> RawResponse:
        sent, headers = sign(query)
        self.signed.append((sent, dict(headers)))
        params = dict(parse_qsl(query))
        self.requests.append((path, params))
        status, body = self._answer(path, params)
        return RawResponse(f"GET {path}", status, {}, body, request_key(path, query))

    def _answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if self.override is not None:
            answer = self.override(path, params)
            if answer is not None:
                return answer
        start, end = int(params["startTime"]), int(params["endTime"])
        assert end - start <= 7 * DAY_MS, f"{path}: span {end - start} ms is over 7 days"
        if path == "/v5/order/history":
            rows = [
                o
                for o in self.book["orders"]
                if o["orderId"] == params["orderId"] and start <= int(o["createdTime"]) <= end
            ]
        elif path == "/v5/execution/list":
            rows = [e for e in self.book["executions"] if e["orderId"] == params["orderId"]]  # time ignored
        elif path == "/v5/account/transaction-log":
            rows = [
                r
                for r in self.book["logs"]
                if start <= int(r["transactionTime"]) <= end and r["currency"] == params["currency"]
            ]
        else:
            raise AssertionError(f"unexpected path {path}")
        return 200, envelope(rows, params.get("category", "linear"))

    def raise_if_backing_off(self, endpoint: str) -> None:
        return None

    def save_malformed(self, error: MalformedResponseError) -> MalformedResponseError:
        return error


def _clock() -> datetime:
    return datetime.fromtimestamp(NOW_MS / 1000, UTC)


def adapter_for(
    book: dict[str, list[dict[str, Any]]],
    credentials: AccountCredentials | None = None,
    override: Override | None = None,
) -> tuple[BybitAdapter, FakeBybit]:
    fake = FakeBybit(book, override)
    return BybitAdapter(credentials or hmac_credentials(), fake, clock=_clock), fake


def bybit_claim(**overrides: Any) -> ClaimInput:
    values: dict[str, Any] = {
        "exchange": Exchange.BYBIT,
        "order_id": "liq-1",
        "instrument": "BTCUSDT",
        "submitted_at": LIQ_MS // 1000 + 600,
        "coverage_start": LIQ_MS // 1000 - 86_400,
        "coverage_end": LIQ_MS // 1000 + 86_400,
        **overrides,
    }
    return claim(**values)


def query(order_id: str = "liq-1", symbol: str = "BTCUSDT", before_ms: int = DAY_MS) -> OrderQuery:
    return OrderQuery(
        order_id=order_id, instrument=symbol, not_before_ms=LIQ_MS - before_ms, not_after_ms=LIQ_MS + 600_000
    )


# ------------------------------------------------------------------------------------------ signatures


def test_hmac_signature__docs_payload__matches_openssl_vector() -> None:
    # The docs' example payload; the hex was computed with `openssl dgst -sha256 -hmac bybit-test-secret`.
    payload = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    assert hmac_signature(payload, "bybit-test-secret") == (
        "603cf75a23e0bd0a5226adb8f4f42accf1a7b89145fc1c05d3ec5f6855b26c67"
    )


def test_fetch_evidence__hmac_key__headers_sign_timestamp_key_window_and_query() -> None:
    adapter, fake = adapter_for(takeover_book())
    adapter.fetch_evidence(query())
    sent, headers = fake.signed[0]
    assert headers["X-BAPI-API-KEY"] == API_KEY
    assert headers["X-BAPI-TIMESTAMP"] == str(NOW_MS)
    assert headers["X-BAPI-RECV-WINDOW"] == "5000"
    expected = hmac.new(SECRET.encode(), f"{NOW_MS}{API_KEY}5000{sent}".encode(), hashlib.sha256).hexdigest()
    assert headers["X-BAPI-SIGN"] == expected
    assert sent.startswith("category=linear&symbol=BTCUSDT&orderId=liq-1&startTime=")


def test_fetch_evidence__rsa_key__signature_verifies_with_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    adapter, fake = adapter_for(takeover_book(), rsa_credentials(rsa_key))
    adapter.recv_window_ms = 8000
    adapter.fetch_evidence(query())
    public = rsa_key.public_key()
    for sent, headers in fake.signed:
        assert headers["X-BAPI-RECV-WINDOW"] == "8000"
        payload = f"{headers['X-BAPI-TIMESTAMP']}{API_KEY}8000{sent}".encode()
        public.verify(base64.b64decode(headers["X-BAPI-SIGN"]), payload, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        sent, headers = fake.signed[0]
        public.verify(
            base64.b64decode(headers["X-BAPI-SIGN"]),
            f"{headers['X-BAPI-TIMESTAMP']}{API_KEY}8000{sent}&x=1".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


def test_sign__called_per_attempt__fresh_timestamp_each_time() -> None:
    now = [NOW_MS]
    fake = FakeBybit(takeover_book())
    adapter = BybitAdapter(hmac_credentials(), fake, clock=lambda: datetime.fromtimestamp(now[0] / 1000, UTC))
    captured: list[SignRequest] = []
    original = fake.get

    def spy(path: str, q: str, sign: SignRequest, key: str, weight: int = 1) -> RawResponse:
        captured.append(sign)
        return original(path, q, sign, key, weight)

    fake.get = spy  # type: ignore[method-assign, assignment]
    adapter.fetch_evidence(query())
    now[0] = NOW_MS + 1234  # a retry after the clock moved (or was re-synced)
    sent, headers = captured[0]("category=linear")
    assert (sent, headers["X-BAPI-TIMESTAMP"]) == ("category=linear", str(NOW_MS + 1234))
    assert (
        headers["X-BAPI-SIGN"]
        == hmac.new(
            SECRET.encode(), f"{NOW_MS + 1234}{API_KEY}5000category=linear".encode(), hashlib.sha256
        ).hexdigest()
    )


# ------------------------------------------------------------------------------------------ liquidation kinds


def test_fetch_evidence__bust_trade__full_liquidation_loss_from_cash_flow_and_fees() -> None:
    adapter, _ = adapter_for(takeover_book())
    evidence = adapter.fetch_evidence(query())
    assert evidence.liquidation is LiquidationKind.FULL
    assert evidence.exchange is Exchange.BYBIT
    assert (evidence.realized_pnl, evidence.fees, evidence.liquidation_penalty) == (
        Decimal("-1000"),
        Decimal("-16.5"),
        Decimal(0),
    )
    assert evidence.loss == Decimal("1016.5")
    assert (evidence.settlement_currency, evidence.fee_currency, evidence.penalty_currency) == (
        "USDT",
        "USDT",
        "USDT",
    )
    assert (evidence.filled_size, evidence.average_price) == (Decimal("0.5"), Decimal("60000"))
    assert evidence.liquidation_time_ms == LIQ_MS
    assert evidence.margin_mode == "not_reported"


def test_fetch_evidence__bust_trade__full_liquidation_approved() -> None:
    adapter, _ = adapter_for(takeover_book())
    the_claim = bybit_claim(claimed_loss=2_000 * 10**6)
    outcome = fetch(adapter, VerificationRequest.for_claim(the_claim, 3600))
    decision = decision_for(the_claim, policy(), outcome)
    assert isinstance(decision, Decision)
    # 80 % of 1016.5 USDT, under the 900 remaining and the 1000 cap.
    assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, 813_200_000)


def test_fetch_evidence__create_by_liq__partial_liquidation() -> None:
    book = {
        "orders": [order_row(create_type="CreateByLiq", qty="0.2", fee="6.6")],
        "executions": [execution_row("e-1", "0.2", "6.6", exec_type="Trade")],
        "logs": [log_row("e-1", "-250.25", "6.6", type_="TRADE")],
    }
    evidence = adapter_for(book)[0].fetch_evidence(query())
    assert (evidence.liquidation, evidence.loss) == (LiquidationKind.PARTIAL, Decimal("256.85"))


def test_fetch_evidence__adl_trade__adl_not_covered_by_default() -> None:
    book = {
        "orders": [order_row(create_type="CreateByAdl_PassThrough", qty="0.2", fee="0")],
        "executions": [execution_row("e-1", "0.2", "0", exec_type="AdlTrade")],
        "logs": [log_row("e-1", "-120", "0", type_="ADL")],
    }
    adapter, _ = adapter_for(book)
    the_claim = bybit_claim()
    decision = decision_for(
        the_claim, policy(), fetch(adapter, VerificationRequest.for_claim(the_claim, 3600))
    )
    assert isinstance(decision, Decision)
    assert decision.reason_code is ReasonCode.ADL_NOT_COVERED
    assert adapter.fetch_evidence(query()).liquidation is LiquidationKind.ADL


def test_fetch_evidence__user_order__not_liquidated() -> None:
    book = {
        "orders": [order_row(create_type="CreateByUser", qty="0.2", fee="6.6")],
        "executions": [execution_row("e-1", "0.2", "6.6", exec_type="Trade")],
        "logs": [log_row("e-1", "-50", "6.6", type_="TRADE")],
    }
    assert adapter_for(book)[0].fetch_evidence(query()).liquidation is LiquidationKind.NONE


@pytest.mark.parametrize(
    ("create_type", "exec_type"),
    [
        ("CreateByTakeOver_PassThrough", "Trade"),
        ("CreateByAdl_PassThrough", "BustTrade"),
        ("CreateByUser", "BustTrade"),
    ],
)
def test_fetch_evidence__create_type_contradicts_exec_type__inconsistent_evidence(
    create_type: str, exec_type: str
) -> None:
    book = takeover_book()
    book["orders"] = [order_row(create_type=create_type)]
    book["executions"] = [
        execution_row("e-1", "0.2", "6.6", exec_type),
        execution_row("e-2", "0.3", "9.9", exec_type),
    ]
    with pytest.raises(InconsistentEvidenceError) as caught:
        adapter_for(book)[0].fetch_evidence(query())
    assert caught.value.disposition is Disposition.MANUAL_REVIEW
    assert "execType" in caught.value.detail


def test_fetch_evidence__executions_short_of_cum_exec_qty__inconsistent_evidence() -> None:
    book = takeover_book()
    book["executions"] = book["executions"][:1]
    with pytest.raises(InconsistentEvidenceError, match=r"cumExecQty 0\.5"):
        adapter_for(book)[0].fetch_evidence(query())


def test_fetch_evidence__log_change_not_cash_flow_minus_fee__inconsistent_evidence() -> None:
    book = takeover_book()
    book["logs"][0] = log_row("e-1", "-400", "6.6", change="-393.4")  # fee added instead of taken off
    with pytest.raises(InconsistentEvidenceError, match="change"):
        adapter_for(book)[0].fetch_evidence(query())


# ------------------------------------------------------------------------------------------ fee sign


def test_fetch_evidence__maker_rebate__negative_exec_fee_counts_as_income() -> None:
    book = {
        "orders": [order_row(create_type="CreateByLiq", qty="0.2", fee="-0.4")],
        "executions": [execution_row("e-1", "0.2", "-0.4", exec_type="Trade")],
        "logs": [log_row("e-1", "-100", "-0.4", type_="TRADE")],
    }
    evidence = adapter_for(book)[0].fetch_evidence(query())
    assert (evidence.fees, evidence.loss) == (Decimal("0.4"), Decimal("99.6"))


def test_fetch_evidence__fee_in_another_coin__review_fee_currency() -> None:
    book = takeover_book()
    book["executions"][1] = execution_row("e-2", "0.3", "9.9", fee_currency="BTC")
    with pytest.raises(NeedsReviewError) as caught:
        adapter_for(book)[0].fetch_evidence(query())
    assert caught.value.cause is ReviewCause.FEE_CURRENCY


# ------------------------------------------------------------------------------------------ settlement


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("BTCUSDT", ("linear", "USDT")),
        ("BTCUSDT-26DEC25", ("linear", "USDT")),
        ("ETHUSDC", ("linear", "USDC")),
        ("ETHPERP", ("linear", "USDC")),
        ("BTC-26DEC25", ("linear", "USDC")),
        ("BTCUSD", ("inverse", "BTC")),
        ("ETHUSDZ25", ("inverse", "ETH")),
        ("USDT", None),
        ("BTC-USDT-SWAP", None),
    ],
)
def test_category_of__symbol__category_and_settlement_coin(
    symbol: str, expected: tuple[str, str] | None
) -> None:
    assert category_of(symbol) == expected


def test_fetch_evidence__inverse_btcusd__unsupported_settlement() -> None:
    book = {
        "orders": [order_row(symbol="BTCUSD", qty="3000", fee="0.00003")],
        "executions": [execution_row("e-1", "3000", "0.00003", symbol="BTCUSD", fee_currency="BTC")],
        "logs": [log_row("e-1", "-0.05", "0.00003", symbol="BTCUSD", currency="BTC")],
    }
    adapter, fake = adapter_for(book)
    the_claim = bybit_claim(instrument="BTCUSD")
    outcome = fetch(adapter, VerificationRequest.for_claim(the_claim, 3600))
    assert outcome.evidence is not None
    assert (outcome.evidence.settlement_currency, outcome.evidence.loss) == ("BTC", Decimal("0.05003"))
    decision = decision_for(the_claim, policy(), outcome)
    assert isinstance(decision, Decision)
    assert (decision.reason_code, decision.payout) == (ReasonCode.UNSUPPORTED_SETTLEMENT, 0)
    assert {params["category"] for _, params in fake.requests} == {"inverse"}


def test_fetch_evidence__unknown_symbol_shape__review_before_any_request() -> None:
    adapter, fake = adapter_for(takeover_book())
    with pytest.raises(NeedsReviewError) as caught:
        adapter.fetch_evidence(query(symbol="BTC-USDT-SWAP"))
    assert caught.value.cause is ReviewCause.INCONSISTENT_EVIDENCE
    assert fake.requests == []


# -------------------------------------------------------------------------------------- retention, windows


def test_fetch_evidence__unknown_order_inside_retention__order_not_found() -> None:
    with pytest.raises(OrderNotFoundError) as caught:
        adapter_for(takeover_book())[0].fetch_evidence(query(order_id="nope"))
    assert caught.value.disposition is Disposition.REJECT


def test_fetch_evidence__110001__order_not_found_inside_retention() -> None:
    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        return (200, error_body(110001, "Order does not exist.")) if path == "/v5/order/history" else None

    with pytest.raises(OrderNotFoundError):
        adapter_for(takeover_book(), override=answer)[0].fetch_evidence(query(order_id="nope"))


def test_fetch_evidence__span_older_than_two_years__review_aged_out() -> None:
    old = OrderQuery(
        order_id="nope",
        instrument="BTCUSDT",
        not_before_ms=NOW_MS - 731 * DAY_MS,
        not_after_ms=NOW_MS - 730 * DAY_MS,
    )
    with pytest.raises(NeedsReviewError) as caught:
        adapter_for(takeover_book())[0].fetch_evidence(old)
    assert caught.value.cause is ReviewCause.AGED_OUT


def test_fetch_evidence__twenty_day_span__order_history_asked_in_windows_of_at_most_seven_days() -> None:
    book = takeover_book()
    adapter, fake = adapter_for(book)
    with pytest.raises(OrderNotFoundError):
        adapter.fetch_evidence(
            OrderQuery(
                order_id="nope", instrument="BTCUSDT", not_before_ms=LIQ_MS - 20 * DAY_MS, not_after_ms=LIQ_MS
            )
        )
    windows = [
        (int(p["startTime"]), int(p["endTime"])) for path, p in fake.requests if path.endswith("history")
    ]
    assert [path for path, _ in fake.requests][-1] == "/v5/execution/list"  # no fills either: absent
    assert len(windows) == 3
    assert all(end - start <= MAX_WINDOW_MS for start, end in windows)
    assert windows[0][0] == LIQ_MS - 20 * DAY_MS - 3_600_000 and windows[-1][1] == LIQ_MS
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(windows))


def test_fetch_evidence__order_liquidated_before_the_span__found_by_executions_claim_window_expired() -> None:
    # Filed 10 days after the liquidation: the claim's span misses the order's creation, but its executions
    # (asked by orderId, whatever the window) place it, and the policy rejects the late claim for what it is.
    adapter, fake = adapter_for(takeover_book())
    late = bybit_claim(submitted_at=LIQ_MS // 1000 + 10 * 86_400, coverage_end=LIQ_MS // 1000 + 20 * 86_400)
    outcome = fetch(adapter, VerificationRequest.for_claim(late, 3600))
    assert outcome.evidence is not None and outcome.evidence.liquidation_time_ms == LIQ_MS
    decision = decision_for(late, policy(), outcome)
    assert isinstance(decision, Decision)
    assert decision.reason_code is ReasonCode.CLAIM_WINDOW_EXPIRED
    assert [path for path, _ in fake.requests][:3] == [
        "/v5/order/history",
        "/v5/execution/list",
        "/v5/order/history",
    ]


def test_fetch_evidence__executions_without_an_order_row__inconsistent_not_a_rejection() -> None:
    book = takeover_book()
    book["orders"] = []
    with pytest.raises(InconsistentEvidenceError, match="no order-history row"):
        adapter_for(book)[0].fetch_evidence(query())


def test_fetch_evidence__every_request__sends_an_explicit_window() -> None:
    adapter, fake = adapter_for(takeover_book())
    adapter.fetch_evidence(query())
    assert [path for path, _ in fake.requests] == [
        "/v5/order/history",
        "/v5/execution/list",
        "/v5/account/transaction-log",
    ]
    assert all("startTime" in p and "endTime" in p for _, p in fake.requests)
    log_params = fake.requests[-1][1]
    assert (log_params["accountType"], log_params["category"], log_params["currency"]) == (
        "UNIFIED",
        "linear",
        "USDT",
    )


def test_fetch_evidence__cursor__next_page_asked_with_it() -> None:
    rows = [log_row(f"x-{i}", "-1", "0", type_="TRADE", order_id="someone-else") for i in range(50)]
    book = takeover_book()

    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        if path != "/v5/account/transaction-log":
            return None
        if "cursor" not in params:
            return 200, envelope(rows, cursor="page%3D2")
        return 200, envelope(book["logs"][:2])

    adapter, fake = adapter_for(book, override=answer)
    assert adapter.fetch_evidence(query()).loss == Decimal("1016.5")
    # The cursor goes back exactly as it came (already URL-encoded), inside the signed query.
    assert fake.signed[-1][0].endswith("&limit=50&cursor=page%3D2")


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("code", "error", "disposition"),
    [
        (10003, AuthenticationError, Disposition.ALERT),
        (10004, AuthenticationError, Disposition.ALERT),
        (10005, AuthenticationError, Disposition.ALERT),
        (10010, AuthenticationError, Disposition.ALERT),
        (10006, RateLimitedError, Disposition.DEFER),
        (10018, RateLimitedError, Disposition.DEFER),
        (10002, ClockSkewError, Disposition.DEFER),
        (10016, TransientError, Disposition.DEFER),
        (10001, MalformedResponseError, Disposition.MANUAL_REVIEW),
        (99999, MalformedResponseError, Disposition.MANUAL_REVIEW),
    ],
)
def test_fetch_evidence__ret_code__typed_error_and_disposition(
    code: int, error: type[ExchangeError], disposition: Disposition
) -> None:
    adapter, _ = adapter_for(takeover_book(), override=lambda path, params: (200, error_body(code, "no")))
    with pytest.raises(error) as caught:
        adapter.fetch_evidence(query())
    assert type(caught.value) is error
    assert caught.value.disposition is disposition
    assert f"retCode {code}" in caught.value.detail


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, b"access too frequent", RateLimitedError),
        (502, b"<html>bad gateway</html>", TransientError),
        (200, b"{not json", MalformedResponseError),
        (200, b'{"retCode": 0, "retMsg": "OK", "result": []}', MalformedResponseError),
        (200, b'{"retCode": 0, "retMsg": "OK", "result": {"list": {}}}', MalformedResponseError),
    ],
)
def test_fetch_evidence__bad_status_or_body__typed_error(
    status: int, body: bytes, error: type[ExchangeError]
) -> None:
    adapter, _ = adapter_for(takeover_book(), override=lambda path, params: (status, body))
    with pytest.raises(error):
        adapter.fetch_evidence(query())
    assert adapter.answers[0].body == body


def test_fetch_evidence__110001_on_executions__inconsistent_not_a_rejection() -> None:
    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        return (200, error_body(110001, "Order does not exist.")) if path == "/v5/execution/list" else None

    with pytest.raises(InconsistentEvidenceError):
        adapter_for(takeover_book(), override=answer)[0].fetch_evidence(query())


def test_wire_rules__bybit__skew_on_10002_server_time_and_ten_minute_ban() -> None:
    rules = WIRE_RULES[Exchange.BYBIT]
    refused = RawResponse("GET /v5/order/history", 200, {}, error_body(10002, "invalid request, time window"))
    accepted = RawResponse("GET /v5/order/history", 200, {}, envelope([]))
    assert rules.skew_detector(refused) and not rules.skew_detector(accepted)
    assert rules.time_source.path == "/v5/market/time"
    body = (
        b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},'
        b'"time":1688639403423}'
    )
    assert server_time(body) == rules.time_source.parse(body) == 1_688_639_403_423
    assert server_time(b'{"retCode":0,"result":{"timeSecond":"1688639403"},"time":1}') == 1_688_639_403_000
    assert 403 in rules.backoff_statuses
    banned = bybit_ban_until(RawResponse("GET /v5/order/history", 403, {}, b"access too frequent"))
    assert banned is not None and banned >= datetime.now(UTC).timestamp() + 599
    assert ADAPTERS[Exchange.BYBIT] is BybitAdapter


# ------------------------------------------------------------------------------------------ replay, secrets


def test_fetch_evidence__replayed_without_credentials__same_evidence() -> None:
    adapter, _ = adapter_for(takeover_book())
    evidence = adapter.fetch_evidence(query())
    replay = ReplayTransport("bybit", adapter.answers)
    dummy = AccountCredentials(exchange=Exchange.BYBIT, api_key="replay", secret="replay")
    again = BybitAdapter(dummy, replay, clock=replay.clock).fetch_evidence(query())
    assert again == evidence
    assert replay.unused() == []


def test_fetch_evidence__not_found_replayed__same_rejection() -> None:
    adapter, _ = adapter_for(takeover_book())
    with pytest.raises(OrderNotFoundError) as first:
        adapter.fetch_evidence(query(order_id="nope"))
    replay = ReplayTransport("bybit", adapter.answers)
    dummy = AccountCredentials(exchange=Exchange.BYBIT, api_key="replay", secret="replay")
    with pytest.raises(OrderNotFoundError) as second:
        BybitAdapter(dummy, replay, clock=replay.clock).fetch_evidence(query(order_id="nope"))
    assert str(second.value) == str(first.value)


def test_secrets__reprs_and_errors__never_show_secret_or_private_key(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(rsa_key)
    creds = rsa_credentials(rsa_key)
    adapter, _ = adapter_for(
        takeover_book(), creds, override=lambda path, params: (200, error_body(10004, "sign"))
    )
    with pytest.raises(AuthenticationError) as caught:
        adapter.fetch_evidence(query())
    marker = pem.splitlines()[1][:40]
    for text in (repr(creds), str(creds), repr(adapter), str(caught.value), repr(hmac_credentials())):
        assert marker not in text and SECRET not in text and API_KEY not in text
    assert creds.key_kind == "rsa" and hmac_credentials().key_kind == "hmac"


def test_accounts_file__bybit_pem_that_does_not_load__error_names_entry_not_key() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==SECRETBYTES\n-----END PRIVATE KEY-----\n"
    with pytest.raises(AccountsFileError) as caught:
        AccountRegistry.from_mapping(
            {ACCOUNT_REF: {"exchange": "bybit", "api_key": API_KEY, "private_key_pem": pem}}
        )
    assert ACCOUNT_REF in str(caught.value)
    assert "private_key_pem" in str(caught.value)
    assert "SECRETBYTES" not in str(caught.value) and API_KEY not in str(caught.value)


# ------------------------------------------------------------------------------------------ on the simulator


@pytest.fixture(scope="module")
def sim_verifier(
    edge_sim: SimExchange, edge_accounts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Verifier:
    folder = tmp_path_factory.mktemp("bybit-verifier")
    settings = make_settings(edge_sim.url, edge_accounts, folder / "malformed", bybit_base_url=edge_sim.url)
    return Verifier(settings.account_registry(), AdapterRegistry(settings), 2)


def _sim_verify(
    verifier: Verifier, edge: ScenarioFile, scenario: str
) -> tuple[ExpectedVerdict, VerificationOutcome, Decision | ReviewNeeded | None]:
    (expected,) = [e for e in edge.expected if e.scenario == f"bybit:{scenario}"]
    policy_params = PolicyParams.model_validate(edge.policy)
    the_claim = ClaimInput.model_validate(expected.claim)
    outcome = verifier.verify(VerificationRequest.for_claim(the_claim, policy_params.claim_window_seconds))
    return expected, outcome, decision_for(the_claim, policy_params, outcome)


def test_every_bybit_edge_case__matches_generator_expectation(
    sim_verifier: Verifier, edge: ScenarioFile
) -> None:
    policy_params = PolicyParams.model_validate(edge.policy)
    cases = [e for e in edge.expected if e.scenario.startswith("bybit:")]
    assert len(cases) >= 10
    for expected in cases:
        the_claim = ClaimInput.model_validate(expected.claim)
        outcome = sim_verifier.verify(
            VerificationRequest.for_claim(the_claim, policy_params.claim_window_seconds)
        )
        assert observed_verdict(expected, policy_params, outcome) == wanted_verdict(expected), (
            f"{expected.scenario}: {outcome.error}: {outcome.detail}"
        )


def test_sim__takeover_20_days_old__windows_of_at_most_seven_days_and_approved(
    sim_verifier: Verifier, edge: ScenarioFile
) -> None:
    expected, outcome, decision = _sim_verify(sim_verifier, edge, "takeover_20_days_old_needs_windows")
    assert isinstance(decision, Decision) and decision.reason_code is ReasonCode.APPROVED
    assert outcome.evidence is not None and outcome.evidence.liquidation is LiquidationKind.FULL
    assert outcome.evidence.loss == Decimal(str(expected.loss))
    for answer in outcome.answers:
        params = dict(parse_qsl(answer.request.split("?", 1)[1]))
        assert int(params["endTime"]) - int(params["startTime"]) <= MAX_WINDOW_MS


def test_sim__rsa_key_account__signed_with_private_key_and_approved(
    sim_verifier: Verifier, edge: ScenarioFile
) -> None:
    _, outcome, decision = _sim_verify(sim_verifier, edge, "rsa_key_account")
    assert isinstance(decision, Decision), f"{outcome.error}: {outcome.detail}"
    assert decision.reason_code is ReasonCode.APPROVED


def test_sim__inverse_btcusd__rejected_unsupported_settlement(
    sim_verifier: Verifier, edge: ScenarioFile
) -> None:
    _, outcome, decision = _sim_verify(sim_verifier, edge, "inverse_settles_in_btc")
    assert outcome.evidence is not None and outcome.evidence.settlement_currency == "BTC"
    assert isinstance(decision, Decision) and decision.reason_code is ReasonCode.UNSUPPORTED_SETTLEMENT


def test_sim__answers_replayed_without_credentials__same_evidence(
    sim_verifier: Verifier, edge: ScenarioFile
) -> None:
    _, outcome, _ = _sim_verify(sim_verifier, edge, "laddered_then_takeover__laddered")
    assert outcome.evidence is not None and outcome.evidence.liquidation is LiquidationKind.PARTIAL
    replay = ReplayTransport("bybit", outcome.answers)
    dummy = AccountCredentials(exchange=Exchange.BYBIT, api_key="replay", secret="replay")
    again = fetch(BybitAdapter(dummy, replay, clock=replay.clock), outcome.request)
    assert again.evidence == outcome.evidence


def test_transport__bybit_403_access_too_frequent__nothing_sent_for_ten_minutes() -> None:
    settings = KeeperSettings(_env_file=None, bybit_base_url="http://127.0.0.1:9")
    factory = bybit_factory(settings)
    assert isinstance(factory, TransportFactory)
    transport = factory.transport
    sent: list[str] = []

    def send(path: str, q: str, headers: Any, endpoint: str, request: str) -> RawResponse:
        sent.append(path)
        if path == "/v5/market/time":
            nanos = str(int(datetime.now(UTC).timestamp() * 1e9))
            body = json.dumps({"retCode": 0, "retMsg": "OK", "result": {"timeNano": nanos}, "time": 0})
            return RawResponse(endpoint, 200, {}, body.encode(), request)
        return RawResponse(endpoint, 403, {}, b"403 Forbidden: access too frequent", request)

    transport._send = send  # type: ignore[method-assign, assignment]
    adapter = factory(hmac_credentials())
    with pytest.raises(BackOffError) as caught:
        adapter.fetch_evidence(query())
    assert caught.value.until >= datetime.now(UTC).timestamp() + 590
    with pytest.raises(BackOffError):
        factory(hmac_credentials()).fetch_evidence(query())
    assert sent.count("/v5/order/history") == 1


def test_sim__exchange_clock_jumps_after_sync__10002_resync_resign_and_verified(
    edge: ScenarioFile, edge_accounts: Path, tmp_path: Path
) -> None:
    sim = SimExchange(edge).start()
    try:
        settings = make_settings(sim.url, edge_accounts, tmp_path, bybit_base_url=sim.url)
        registry = AdapterRegistry(settings)
        verifier = Verifier(settings.account_registry(), registry)
        (expected,) = [e for e in edge.expected if e.scenario == "bybit:takeover_2_days_old"]
        window = PolicyParams.model_validate(edge.policy).claim_window_seconds
        request = VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), window)
        assert verifier.verify(request).status is OutcomeStatus.VERIFIED
        sim.set_faults(FaultConfig(clock_skew_ms=45_000))  # the keeper host's clock is now 45 s behind
        outcome = verifier.verify(request)
        clock = registry.transports()[Exchange.BYBIT].clock
    finally:
        sim.stop()
    assert outcome.status is OutcomeStatus.VERIFIED, f"{outcome.error}: {outcome.detail}"
    assert (clock.syncs, clock.skew_errors, clock.alerts) == (2, 1, 0)
    assert clock.offset_ms == pytest.approx(45_000, abs=1_000)
