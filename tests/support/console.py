"""Fixed snapshots for the console's page tests: a pool, and claims built as the store and chain hold them."""

from __future__ import annotations

from keeper.chain import ClaimView
from keeper.console.snapshots import ClaimRow, PoolSnapshot, ProposalSnapshot
from keeper.interface import ClaimStatus, Exchange
from keeper.store import ClaimRecord, ClaimState

TRADER = "0x" + "ab" * 20
NOW = 1_800_000_000
SIGNER = "0x" + "33" * 20


def pool_snapshot(**changes: object) -> PoolSnapshot:
    values: dict[str, object] = {
        "address": "0x" + "11" * 20,
        "asset": "0x" + "22" * 20,
        "total_assets": 1_000_500_000,
        "reserved": 250_000_000,
        "free": 750_500_000,
        "withdrawn_today": 0,
        "paid_out_today": 50_000_000,
        "approved_today": 300_000_000,
        "daily_withdrawal_limit": 0,
        "daily_payout_limit": 200_000_000,
        "daily_approval_limit": 200_000_000,
        "max_payout_per_claim": 10_000_000_000,
        "max_coverage_limit": 50_000_000_000,
        "challenge_period": 3_600,
        "claim_grace_period": 7 * 86_400,
        "paused_flags": 4,
        "signers": ["0x" + "33" * 20, "0x" + "44" * 20, "0x" + "55" * 20],
        "threshold": 2,
        "execution_delay": 172_800,
        "proposal_lifetime": 604_800,
    }
    values.update(changes)
    return PoolSnapshot.model_validate(values)


def claim_row(
    claim_id: int,
    status: ClaimStatus,
    payable_at: int = 0,
    exchange: Exchange = Exchange.OKX,
    user: str = TRADER,
    state: ClaimState = ClaimState.POSTED,
) -> ClaimRow:
    record = ClaimRecord(
        claim_id=claim_id,
        user=user,
        exchange=int(exchange),
        account_ref="0x" + "cd" * 32,
        order_id=f"order-{claim_id}",
        instrument="BTC-USDT-SWAP",
        claimed_loss=1_000_000_000,
        block_number=10 + claim_id,
        log_index=0,
        state=state,
    )
    view = ClaimView(
        user=user,
        exchange=int(exchange),
        status=status,
        claimed_loss=1_000_000_000,
        payout=800_000_000 if status in (ClaimStatus.APPROVED, ClaimStatus.PAID) else 0,
        submitted_at=NOW - 7_200,
        decided_at=NOW - 600 if status is not ClaimStatus.PENDING else 0,
        reason_code=0,
        payable_at=payable_at,
    )
    return ClaimRow(record=record, chain=view)


def proposal_snapshot(proposal_id: int, state: str, **changes: object) -> ProposalSnapshot:
    values: dict[str, object] = {
        "proposal_id": proposal_id,
        "actions": [f"withdraw(to={TRADER}, amount=1,000 USDT)"],
        "proposer": SIGNER,
        "confirmed_by": [SIGNER],
        "confirmations": 1,
        "threshold": 2,
        "state": state,
        "ready_at": 0,
        "expires_at": NOW + 86_400,
        "data_hash": "0x" + "77" * 32,
        "effect": [],
        "refusal": None,
    }
    values.update(changes)
    return ProposalSnapshot.model_validate(values)
