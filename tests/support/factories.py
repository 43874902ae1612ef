"""Builders of valid claims, evidence and policies for unit tests (each test changes what it checks)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from keeper.evidence import ClaimInput, LiquidationEvidence, LiquidationKind, ReviewCause, loss_from
from keeper.exchanges.limits import EndpointLimiter, EndpointRate
from keeper.exchanges.transport import HttpTransport, TransportConfig
from keeper.interface import Exchange
from keeper.policy import Decision, PolicyParams, ReviewNeeded, decision_for
from keeper.settings import KeeperSettings
from keeper.sim.scenarios import ExpectedVerdict
from keeper.store import ClaimRecord, ClaimState
from keeper.verification import VerificationOutcome, VerificationRequest

LIQUIDATED_AT_MS = 1_790_000_000_500
ACCOUNT_REF = "0x" + "ab" * 32


def policy(**overrides: Any) -> PolicyParams:
    values: dict[str, Any] = {
        "coverage_ratio": Decimal("0.8"),
        "claim_window_seconds": 3600,
        "cover_adl": False,
        "max_payout_per_claim": 1_000 * 10**6,
        "token_decimals": 6,
        "policy_version": "test-1",
        **overrides,
    }
    return PolicyParams(**values)


def claim(**overrides: Any) -> ClaimInput:
    values: dict[str, Any] = {
        "claim_id": 7,
        "user": "0x" + "11" * 20,
        "exchange": Exchange.OKX,
        "account_ref": ACCOUNT_REF,
        "order_id": "123456",
        "instrument": "BTC-USDT-SWAP",
        "claimed_loss": 500 * 10**6,
        "submitted_at": LIQUIDATED_AT_MS // 1000 + 600,
        "coverage_start": LIQUIDATED_AT_MS // 1000 - 86_400,
        "coverage_end": LIQUIDATED_AT_MS // 1000 + 86_400,
        "remaining_coverage": 900 * 10**6,
        **overrides,
    }
    return ClaimInput(**values)


def evidence(
    realized_pnl: str = "-400",
    fees: str = "-1.5",
    penalty: str = "0",
    **overrides: Any,
) -> LiquidationEvidence:
    pnl, fee, pen = Decimal(realized_pnl), Decimal(fees), Decimal(penalty)
    values: dict[str, Any] = {
        "exchange": Exchange.OKX,
        "order_id": "123456",
        "instrument": "BTC-USDT-SWAP",
        "liquidation": LiquidationKind.FULL,
        "liquidation_time_ms": LIQUIDATED_AT_MS,
        "filled_size": Decimal("2"),
        "average_price": Decimal("60000"),
        "realized_pnl": pnl,
        "fees": fee,
        "liquidation_penalty": pen,
        "settlement_currency": "USDT",
        "fee_currency": "USDT",
        "penalty_currency": "USDT",
        "loss": loss_from(pnl, fee, pen),
        **overrides,
    }
    return LiquidationEvidence(**values)


def make_settings(base_url: str, accounts_file: Path, dump_dir: Path, **overrides: Any) -> KeeperSettings:
    values: dict[str, Any] = {
        "okx_base_url": base_url,
        "binance_base_url": base_url,
        "bybit_base_url": base_url,
        "accounts_file": accounts_file,
        "http_retries": 2,
        "http_backoff_factor": 0.01,
        "http_backoff_jitter": 0.01,
        "http_read_timeout_seconds": 2.0,
        "limiter_max_wait_seconds": 10.0,
        "malformed_dump_dir": dump_dir,
        "verify_workers": 6,
        **overrides,
    }
    return KeeperSettings(_env_file=None, **values)


def observed_verdict(
    expected: ExpectedVerdict, policy: PolicyParams, outcome: VerificationOutcome
) -> tuple[object, ...]:
    """What the keeper concluded for a generated claim, comparable with ``wanted_verdict``: ("review", cause)
    or (reason code, payout, liquidation kind, loss)."""
    decision = decision_for(ClaimInput.model_validate(expected.claim), policy, outcome)
    if isinstance(decision, ReviewNeeded):
        return ("review", decision.cause.value)
    assert isinstance(decision, Decision), (
        f"{expected.scenario}: deferred ({outcome.error}: {outcome.detail})"
    )
    evidence = outcome.evidence
    return (
        int(decision.reason_code),
        decision.payout,
        None if evidence is None else evidence.liquidation.value,
        None if evidence is None else evidence.loss,
    )


def wanted_verdict(expected: ExpectedVerdict) -> tuple[object, ...]:
    """The generator's expectation in the shape of ``observed_verdict``."""
    if expected.review_cause is not None:
        return ("review", expected.review_cause)
    loss = None if expected.loss is None else Decimal(expected.loss)
    return (expected.reason_code, expected.payout, expected.liquidation, loss)


def request_for(expected: ExpectedVerdict, policy: PolicyParams) -> VerificationRequest:
    """The verification request of a generated claim, its span from the policy's claim window."""
    claim = ClaimInput.model_validate(expected.claim)
    return VerificationRequest.for_claim(claim, policy.claim_window_seconds)


def ccxt_linear_market(symbol: str, settle: str) -> dict[str, Any]:
    """The ccxt market of a linear perpetual settled in ``settle`` (BTCUSDT, USDT), so a ccxt client skips
    ``load_markets``: the simulator serves no exchangeInfo or instruments-info."""
    base = symbol.removesuffix(settle)
    return {
        "id": symbol,
        "symbol": f"{base}/{settle}:{settle}",
        "base": base,
        "quote": settle,
        "settle": settle,
        "baseId": base,
        "quoteId": settle,
        "settleId": settle,
        "type": "swap",
        "subType": "linear",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "active": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": 1,
        "precision": {"amount": 0.001, "price": 0.01},
        "limits": {"amount": {}, "price": {}, "cost": {}, "leverage": {}},
        "info": {},
    }


class BackingOffVerifier:
    """The exchanges' transports as the daemon reads them for metrics: one Binance transport backing off for
    two minutes, for ``reason``."""

    def __init__(self, reason: str) -> None:
        config = TransportConfig(base_url="http://127.0.0.1:9")
        self.binance = HttpTransport("binance", config, EndpointLimiter({}, EndpointRate(10, 1000), 1.0))
        self.binance.backoff.impose(self.binance.clock.seconds() + 120, reason)

    def exchange_transports(self) -> dict[Exchange, HttpTransport]:
        return {Exchange.BINANCE: self.binance}


def claim_in_review(
    claim_id: int,
    exchange: int,
    cause: ReviewCause,
    entered_at: int,
    instrument: str = "BTCUSDT",
    earliest_ms: int | None = None,
) -> ClaimRecord:
    """A claim waiting for a person since ``entered_at`` (unix s), for ``cause``."""
    return ClaimRecord(
        claim_id=claim_id,
        user="0x" + "11" * 20,
        exchange=exchange,
        account_ref="0x" + "cd" * 32,
        order_id="1",
        instrument=instrument,
        claimed_loss=1,
        block_number=1,
        log_index=0,
        state=ClaimState.MANUAL_REVIEW,
        review_cause=cause,
        review_entered_at=entered_at,
        review_earliest_ms=earliest_ms,
    )
