"""Claims: submitClaim, postVerification(s), vetoClaim, executePayout(s) and the reservation invariant."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape import chain
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    BINANCE,
    BYBIT,
    CHALLENGE_PERIOD,
    CLAIM_GRACE_PERIOD,
    COVERAGE_LIMIT,
    DAILY_APPROVAL_LIMIT,
    DAY,
    EVIDENCE,
    OKX,
    PAID,
    PENDING,
    POOL_FUNDS,
    REJECTED,
    SKIP_CHALLENGE_WINDOW_OPEN,
    SKIP_CHALLENGE_WINDOW_OVER,
    SKIP_DAILY_PAYOUT_LIMIT,
    SKIP_USER_BLACKLISTED,
    SKIP_WRONG_STATUS,
    USDT,
)

from keeper.interface import ClaimStatus

NONE = ClaimStatus.NONE
OTHER_REF = bytes.fromhex("cd" * 32)
INSTRUMENT = "BTC-USDT-SWAP"
UNKNOWN_CLAIM = 99


def verdict(claim_id: int, approved: bool, payout: int, reason: int = 0, evidence: bytes = EVIDENCE) -> tuple:
    """One `Verification` item for postVerifications."""
    return (claim_id, approved, payout, evidence, reason)


def approve(guard: Any, validator: Any, claim_id: int, payout: int) -> Any:
    return guard.postVerification(claim_id, True, payout, EVIDENCE, 0, sender=validator)


def window_end(guard: Any, claim_id: int) -> int:
    """The claim's payableAt: the veto window closes and payment opens then."""
    return int(guard.getClaim(claim_id).payableAt)


def order_claim(
    guard: Any, order_id: str, instrument: str = INSTRUMENT, ref: bytes = ACCOUNT_REF, exchange: int = OKX
) -> int:
    return int(guard.claimIdByOrder(exchange, ref, instrument, order_id))


def next_day_start() -> int:
    return (int(chain.pending_timestamp) // DAY + 1) * DAY


# ================================================================== submitClaim


def test_submit_claim__emits_liquidation_claimed_and_stores_claim(insured, trader):
    receipt = insured.submitClaim(OKX, "okx-123", INSTRUMENT, 1_000 * USDT, sender=trader)

    assert receipt.return_value == 1
    assert receipt.events == [
        insured.LiquidationClaimed(1, trader, OKX, ACCOUNT_REF, "okx-123", INSTRUMENT, 1_000 * USDT)
    ]
    assert insured.getClaim(1) == (trader, OKX, PENDING, 1_000 * USDT, 0, receipt.timestamp, 0, 0, 0)
    assert insured.claimCount() == 1
    assert order_claim(insured, "okx-123") == 1


def test_submit_claim__ids_count_up_from_one_across_traders(insured, trader, other_trader):
    first = insured.submitClaim(OKX, "a", INSTRUMENT, 1 * USDT, sender=trader)
    second = insured.submitClaim(BYBIT, "b", "ETH-USDT", 2 * USDT, sender=other_trader)

    assert (first.return_value, second.return_value) == (1, 2)
    assert second.events == [
        insured.LiquidationClaimed(2, other_trader, BYBIT, OTHER_REF, "b", "ETH-USDT", 2 * USDT)
    ]
    assert insured.claimCount() == 2
    assert insured.getClaim(2).user == other_trader


@pytest.mark.parametrize("exchange", [OKX, BINANCE, BYBIT])
def test_submit_claim__supported_exchange__accepted(insured, trader, exchange):
    insured.submitClaim(exchange, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert insured.getClaim(1).exchange == exchange


@pytest.mark.parametrize("exchange", [0, 4, 255])
def test_submit_claim__unsupported_exchange__reverts(insured, trader, exchange):
    with ape.reverts(insured.UnsupportedExchange, exchange=exchange):
        insured.submitClaim(exchange, "order", INSTRUMENT, 1 * USDT, sender=trader)


@pytest.mark.parametrize(
    "order_id",
    [
        "",
        "x" * 65,
        "é" * 33,
        "é",
        "order 1",
        "order/1",
        "order.1",
        "ord\x00er",
        "ordér",
        "订单1",
        "order+1",
        "o:1",
    ],
)
def test_submit_claim__invalid_order_id__reverts_with_the_id(insured, trader, order_id):
    with ape.reverts(insured.InvalidOrderId, orderId=order_id):
        insured.submitClaim(OKX, order_id, INSTRUMENT, 1 * USDT, sender=trader)

    assert insured.claimCount() == 0


@pytest.mark.parametrize("order_id", ["x" * 64, "a", "Z", "0", "-", "_", "AZaz09-_", "1234567890123"])
def test_submit_claim__valid_order_id__accepted(insured, trader, order_id):
    insured.submitClaim(OKX, order_id, INSTRUMENT, 1 * USDT, sender=trader)

    assert order_claim(insured, order_id) == 1


@pytest.mark.parametrize(
    "instrument",
    [
        "",
        "I" * 33,
        "btc-usdt-swap",
        "BTC-usdt",
        "BTC USDT",
        "BTC/USDT",
        "BTC.USDT",
        "BTCÜSDT",
        "€",
        "BTC\x00",
    ],
)
def test_submit_claim__invalid_instrument__reverts_with_the_instrument(insured, trader, instrument):
    with ape.reverts(insured.InvalidInstrument, instrument=instrument):
        insured.submitClaim(OKX, "order", instrument, 1 * USDT, sender=trader)

    assert insured.claimCount() == 0


@pytest.mark.parametrize("instrument", ["A", "BTCUSDT", "BTC-USDT-SWAP", "ETH_USDT_250328", "0-9_A-Z"])
def test_submit_claim__valid_instrument__accepted(insured, trader, instrument):
    insured.submitClaim(OKX, "order", instrument, 1 * USDT, sender=trader)

    assert order_claim(insured, "order", instrument) == 1


def test_submit_claim__instrument_of_32_bytes__accepted(insured, trader):
    receipt = insured.submitClaim(OKX, "order", "I" * 32, 1 * USDT, sender=trader)

    assert receipt.events == [
        insured.LiquidationClaimed(1, trader, OKX, ACCOUNT_REF, "order", "I" * 32, 1 * USDT)
    ]


def test_submit_claim__zero_loss__reverts(insured, trader):
    with ape.reverts(insured.ZeroAmount):
        insured.submitClaim(OKX, "order", INSTRUMENT, 0, sender=trader)


def test_submit_claim__not_whitelisted__reverts(insured, stranger):
    with ape.reverts(insured.NotWhitelisted, user=stranger):
        insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=stranger)

    assert insured.claimCount() == 0


def test_submit_claim__blacklisted__reverts(insured, guardian, trader):
    insured.addToBlacklist([trader], sender=guardian)

    with ape.reverts(insured.UserBlacklisted, user=trader):
        insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)


def test_submit_claim__after_grace_period__reverts(insured, trader, coverage_end):
    policy = insured.getPolicy(trader)
    deadline = coverage_end + CLAIM_GRACE_PERIOD
    chain.pending_timestamp = deadline + 1

    with ape.reverts(
        insured.OutsideCoverage, user=trader, coverageStart=policy.coverageStart, claimDeadline=deadline
    ):
        insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)


def test_submit_claim__last_second_of_grace_period__accepted(insured, trader, coverage_end):
    chain.pending_timestamp = coverage_end + CLAIM_GRACE_PERIOD

    receipt = insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert receipt.timestamp == coverage_end + CLAIM_GRACE_PERIOD
    assert insured.getClaim(1).status == PENDING


def test_submit_claim__grace_period_zero__ends_at_coverage_end(insured, gov, trader, coverage_end):
    gov(insured.setClaimGracePeriod, 0)
    start = insured.getPolicy(trader).coverageStart
    chain.pending_timestamp = coverage_end + 1

    with ape.reverts(insured.OutsideCoverage, user=trader, coverageStart=start, claimDeadline=coverage_end):
        insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)


def test_submit_claim__grace_period_changed__applies_to_existing_policies(insured, gov, trader, coverage_end):
    gov(insured.setClaimGracePeriod, 30 * DAY)
    chain.pending_timestamp = coverage_end + 30 * DAY

    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert insured.claimCount() == 1


def test_submit_claim__grace_period__approved_and_paid(
    insured, validator, stranger, token, trader, coverage_end
):
    """A claim filed in the grace period is decided and paid like any other."""
    chain.pending_timestamp = coverage_end + DAY
    claim_id = insured.submitClaim(OKX, "late", INSTRUMENT, 1_000 * USDT, sender=trader).return_value
    insured.postVerification(claim_id, True, 900 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp = window_end(insured, claim_id)

    insured.executePayout(claim_id, sender=stranger)

    assert token.balanceOf(trader) == 900 * USDT


def test_submit_claim__at_coverage_end__accepted(insured, trader, coverage_end):
    chain.pending_timestamp = coverage_end

    receipt = insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert receipt.timestamp == coverage_end
    assert insured.getClaim(1).status == PENDING


def test_submit_claim__more_than_coverage__reverts(insured, trader):
    with ape.reverts(
        insured.ClaimExceedsCoverage, claimedLoss=COVERAGE_LIMIT + 1, remainingCoverage=COVERAGE_LIMIT
    ):
        insured.submitClaim(OKX, "order", INSTRUMENT, COVERAGE_LIMIT + 1, sender=trader)


def test_submit_claim__whole_coverage__accepted(insured, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, COVERAGE_LIMIT, sender=trader)

    assert insured.getClaim(1).claimedLoss == COVERAGE_LIMIT


def test_submit_claim__more_than_remaining_after_reservation__reverts(insured, approved_claim, trader):
    remaining = COVERAGE_LIMIT - 800 * USDT
    assert insured.remainingCoverage(trader) == remaining

    with ape.reverts(insured.ClaimExceedsCoverage, claimedLoss=remaining + 1, remainingCoverage=remaining):
        insured.submitClaim(OKX, "order-x", INSTRUMENT, remaining + 1, sender=trader)


def test_submit_claim__same_order_twice__reverts_duplicate(insured, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    with ape.reverts(insured.DuplicateClaim, existingClaimId=1):
        insured.submitClaim(OKX, "order", INSTRUMENT, 2 * USDT, sender=trader)

    assert insured.claimCount() == 1


def test_submit_claim__same_order_id_under_another_account_ref__is_another_claim(
    insured, trader, other_trader
):
    """Order ids are unique per exchange account, not per exchange: the key includes the accountRef."""
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    receipt = insured.submitClaim(OKX, "order", INSTRUMENT, 2 * USDT, sender=other_trader)

    assert receipt.return_value == 2
    assert order_claim(insured, "order") == 1
    assert order_claim(insured, "order", ref=OTHER_REF) == 2


def test_submit_claim__same_order_id_under_another_instrument__is_another_claim(insured, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    receipt = insured.submitClaim(OKX, "order", "ETH-USDT-SWAP", 2 * USDT, sender=trader)

    assert receipt.return_value == 2
    assert order_claim(insured, "order") == 1
    assert order_claim(insured, "order", "ETH-USDT-SWAP") == 2
    assert order_claim(insured, "order", "SOL-USDT-SWAP") == 0


def test_submit_claim__same_order_after_rejection__reverts_duplicate(insured, validator, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)
    insured.postVerification(1, False, 0, EVIDENCE, 12, sender=validator)

    with ape.reverts(insured.DuplicateClaim, existingClaimId=1):
        insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)


def test_submit_claim__same_order_id_on_another_exchange__accepted(insured, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    receipt = insured.submitClaim(BINANCE, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert receipt.return_value == 2
    assert order_claim(insured, "order") == 1
    assert order_claim(insured, "order", exchange=BINANCE) == 2
    assert order_claim(insured, "order", exchange=BYBIT) == 0


def test_claim_id_by_order__unknown__is_zero(insured):
    assert order_claim(insured, "never-filed") == 0


def test_claim_id_by_order__instrument_spelling_is_exact(insured, trader):
    insured.submitClaim(OKX, "order", INSTRUMENT, 1 * USDT, sender=trader)

    assert order_claim(insured, "order", INSTRUMENT.lower()) == 0
    assert order_claim(insured, "ORDER") == 0


def test_get_claim__unknown__is_all_zero(guard):
    assert guard.getClaim(UNKNOWN_CLAIM) == (
        "0x0000000000000000000000000000000000000000",
        0,
        NONE,
        0,
        0,
        0,
        0,
        0,
        0,
    )


# ================================================================== postVerification


@pytest.mark.parametrize("who", ["stranger", "guardian", "trader", "signer"])
def test_post_verification__not_validator__reverts(
    insured, file_claim, stranger, guardian, trader, signers, who
):
    caller = {"stranger": stranger, "guardian": guardian, "trader": trader, "signer": signers[0]}[who]
    claim_id = file_claim()

    with ape.reverts(
        insured.AccessControlUnauthorizedAccount, account=caller, neededRole=insured.VALIDATOR_ROLE()
    ):
        insured.postVerification(claim_id, True, 1 * USDT, EVIDENCE, 0, sender=caller)


def test_post_verification__by_governance__reverts_not_validator(insured, gov, file_claim):
    claim_id = file_claim()

    with ape.reverts(
        insured.AccessControlUnauthorizedAccount, account=insured, neededRole=insured.VALIDATOR_ROLE()
    ):
        gov(insured.postVerification, claim_id, True, 1 * USDT, EVIDENCE, 0)


def test_post_verification__approval__reserves_at_once_and_emits(
    insured, file_claim, validator, trader, token
):
    claim_id = file_claim(1_000 * USDT)
    submitted_at = insured.getClaim(claim_id).submittedAt

    receipt = insured.postVerification(claim_id, True, 800 * USDT, EVIDENCE, 0, sender=validator)

    assert receipt.events == [insured.ClaimVerified(claim_id, validator, True, 800 * USDT, EVIDENCE, 0)]
    assert insured.getClaim(claim_id) == (
        trader,
        OKX,
        APPROVED,
        1_000 * USDT,
        800 * USDT,
        submitted_at,
        receipt.timestamp,
        0,
        receipt.timestamp + CHALLENGE_PERIOD,
    )
    assert insured.reservedAmount() == 800 * USDT
    assert insured.freeBalance() == POOL_FUNDS - 800 * USDT
    assert insured.totalAssets() == POOL_FUNDS
    assert token.balanceOf(insured) == POOL_FUNDS
    assert insured.getPolicy(trader).used == 800 * USDT
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 800 * USDT
    assert insured.approvedToday() == 800 * USDT


def test_post_verification__rejection__reserves_nothing_and_emits(insured, file_claim, validator, trader):
    claim_id = file_claim(1_000 * USDT)

    receipt = insured.postVerification(claim_id, False, 0, EVIDENCE, 42, sender=validator)

    assert receipt.events == [insured.ClaimVerified(claim_id, validator, False, 0, EVIDENCE, 42)]
    claim = insured.getClaim(claim_id)
    assert (claim.status, claim.payout, claim.decidedAt, claim.reasonCode, claim.payableAt) == (
        REJECTED,
        0,
        receipt.timestamp,
        42,
        0,
    )
    assert insured.reservedAmount() == 0
    assert insured.getPolicy(trader).used == 0
    assert insured.approvedToday() == 0


def test_post_verification__payout_equal_to_claimed_loss__accepted(insured, file_claim, validator):
    claim_id = file_claim(1_000 * USDT)

    approve(insured, validator, claim_id, 1_000 * USDT)

    assert insured.getClaim(claim_id).payout == 1_000 * USDT


def test_post_verification__payout_above_claimed_loss__reverts(insured, file_claim, validator):
    claim_id = file_claim(1_000 * USDT)

    with ape.reverts(insured.PayoutTooLarge, payout=1_000 * USDT + 1, cap=1_000 * USDT):
        approve(insured, validator, claim_id, 1_000 * USDT + 1)


def test_post_verification__payout_above_max_per_claim__reverts(insured, file_claim, validator):
    claim_id = file_claim(6_000 * USDT)

    with ape.reverts(insured.PayoutTooLarge, payout=5_000 * USDT + 1, cap=5_000 * USDT):
        approve(insured, validator, claim_id, 5_000 * USDT + 1)

    approve(insured, validator, claim_id, 5_000 * USDT)
    assert insured.getClaim(claim_id).payout == 5_000 * USDT


def test_post_verification__payout_above_remaining_coverage__reverts(insured, file_claim, validator, trader):
    first = file_claim(5_000 * USDT)
    second = file_claim(4_000 * USDT)
    third = file_claim(3_000 * USDT)
    approve(insured, validator, first, 5_000 * USDT)
    approve(insured, validator, second, 4_000 * USDT)
    assert insured.remainingCoverage(trader) == 1_000 * USDT

    with ape.reverts(insured.PayoutTooLarge, payout=1_000 * USDT + 1, cap=1_000 * USDT):
        approve(insured, validator, third, 1_000 * USDT + 1)

    approve(insured, validator, third, 1_000 * USDT)
    assert insured.remainingCoverage(trader) == 0


def test_post_verification__max_per_claim_zero__blocks_approvals(insured, gov, file_claim, validator):
    claim_id = file_claim(1_000 * USDT)
    gov(insured.setMaxPayoutPerClaim, 0)

    with ape.reverts(insured.PayoutTooLarge, payout=1, cap=0):
        approve(insured, validator, claim_id, 1)


def test_post_verification__payout_above_free_balance__reverts(insured, gov, file_claim, validator, stranger):
    claim_id = file_claim(2_000 * USDT)
    gov(insured.setDailyWithdrawalLimit, POOL_FUNDS)
    gov(insured.withdraw, stranger, POOL_FUNDS - 1_000 * USDT)

    with ape.reverts(insured.InsufficientFreeBalance, needed=1_500 * USDT, free=1_000 * USDT):
        approve(insured, validator, claim_id, 1_500 * USDT)

    approve(insured, validator, claim_id, 1_000 * USDT)
    assert insured.freeBalance() == 0


def test_post_verification__approved_with_zero_payout__reverts(insured, file_claim, validator):
    claim_id = file_claim()

    with ape.reverts(insured.ZeroAmount):
        approve(insured, validator, claim_id, 0)


def test_post_verification__rejection_with_payout__reverts(insured, file_claim, validator):
    claim_id = file_claim()

    with ape.reverts(insured.PayoutOnRejection, payout=1):
        insured.postVerification(claim_id, False, 1, EVIDENCE, 0, sender=validator)


@pytest.mark.parametrize(("approved", "payout"), [(True, 100 * USDT), (False, 0)])
def test_post_verification__zero_evidence_hash__reverts(insured, file_claim, validator, approved, payout):
    claim_id = file_claim()

    with ape.reverts(insured.ZeroEvidenceHash):
        insured.postVerification(claim_id, approved, payout, bytes(32), 0, sender=validator)


def test_post_verification__unknown_claim__reverts(insured, validator):
    with ape.reverts(insured.InvalidClaimStatus, claimId=UNKNOWN_CLAIM, status=NONE):
        approve(insured, validator, UNKNOWN_CLAIM, 1 * USDT)


def test_post_verification__already_approved__reverts(insured, approved_claim, validator):
    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=APPROVED):
        insured.postVerification(approved_claim, False, 0, EVIDENCE, 0, sender=validator)

    assert insured.reservedAmount() == 800 * USDT


def test_post_verification__already_rejected__reverts(insured, file_claim, validator):
    claim_id = file_claim()
    insured.postVerification(claim_id, False, 0, EVIDENCE, 1, sender=validator)

    with ape.reverts(insured.InvalidClaimStatus, claimId=claim_id, status=REJECTED):
        approve(insured, validator, claim_id, 1 * USDT)


def test_post_verification__already_paid__reverts(insured, approved_claim, validator, stranger):
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(approved_claim, sender=stranger)

    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=PAID):
        approve(insured, validator, approved_claim, 1 * USDT)


@pytest.fixture
def trader_validator(insured, gov, trader):
    """`trader` also holds VALIDATOR_ROLE."""
    gov(insured.grantRole, insured.VALIDATOR_ROLE(), trader)
    return trader


@pytest.mark.parametrize(("approved", "payout"), [(True, 100 * USDT), (False, 0)])
def test_post_verification__validator_is_claimant__reverts_conflict(
    insured, file_claim, trader_validator, approved, payout
):
    claim_id = file_claim(by=trader_validator)

    with ape.reverts(insured.ConflictOfInterest, claimId=claim_id, validator=trader_validator):
        insured.postVerification(claim_id, approved, payout, EVIDENCE, 0, sender=trader_validator)


def test_post_verification__validator_trader__may_verify_others_claims(
    insured, file_claim, trader_validator, other_trader
):
    claim_id = file_claim(by=other_trader)

    receipt = approve(insured, trader_validator, claim_id, 100 * USDT)

    assert receipt.events == [
        insured.ClaimVerified(claim_id, trader_validator, True, 100 * USDT, EVIDENCE, 0)
    ]


def test_post_verification__blacklisted_claimant__approval_reverts_rejection_allowed(
    insured, file_claim, guardian, validator, trader
):
    approved_id = file_claim()
    rejected_id = file_claim()
    insured.addToBlacklist([trader], sender=guardian)

    with ape.reverts(insured.UserBlacklisted, user=trader):
        approve(insured, validator, approved_id, 100 * USDT)
    insured.postVerification(rejected_id, False, 0, EVIDENCE, 7, sender=validator)

    assert insured.getClaim(rejected_id).status == REJECTED
    assert insured.reservedAmount() == 0


# ================================================================== postVerifications


def test_post_verifications__mixed_batch__decides_each_and_emits(
    insured, file_claim, validator, trader, other_trader
):
    a = file_claim(1_000 * USDT)
    b = file_claim(2_000 * USDT, by=other_trader)
    c = file_claim(3_000 * USDT)

    receipt = insured.postVerifications(
        [
            verdict(a, True, 800 * USDT),
            verdict(b, False, 0, reason=21),
            verdict(c, True, 3_000 * USDT, reason=3),
        ],
        sender=validator,
    )

    assert receipt.events == [
        insured.ClaimVerified(a, validator, True, 800 * USDT, EVIDENCE, 0),
        insured.ClaimVerified(b, validator, False, 0, EVIDENCE, 21),
        insured.ClaimVerified(c, validator, True, 3_000 * USDT, EVIDENCE, 3),
    ]
    assert [insured.getClaim(i).status for i in (a, b, c)] == [APPROVED, REJECTED, APPROVED]
    assert insured.reservedAmount() == 3_800 * USDT
    assert insured.getPolicy(trader).used == 3_800 * USDT
    assert insured.getPolicy(other_trader).used == 0
    assert insured.approvedToday() == 3_800 * USDT


def test_post_verifications__already_decided__skipped_without_state_change(insured, file_claim, validator):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    batch = [verdict(a, True, 800 * USDT), verdict(b, False, 0, reason=5)]
    insured.postVerifications(batch, sender=validator)
    before = [insured.getClaim(a), insured.getClaim(b)]
    chain.pending_timestamp += 60

    receipt = insured.postVerifications(
        [verdict(a, True, 900 * USDT, reason=9), verdict(b, True, 100 * USDT)], sender=validator
    )

    assert receipt.events == [
        insured.VerificationSkipped(a, SKIP_WRONG_STATUS),
        insured.VerificationSkipped(b, SKIP_WRONG_STATUS),
    ]
    assert [insured.getClaim(a), insured.getClaim(b)] == before
    assert insured.reservedAmount() == 800 * USDT


def test_post_verifications__decided_and_new__skips_old_decides_new(
    insured, approved_claim, file_claim, validator
):
    new = file_claim(500 * USDT)

    receipt = insured.postVerifications(
        [verdict(approved_claim, True, 800 * USDT), verdict(new, True, 500 * USDT)], sender=validator
    )

    assert receipt.events == [
        insured.VerificationSkipped(approved_claim, SKIP_WRONG_STATUS),
        insured.ClaimVerified(new, validator, True, 500 * USDT, EVIDENCE, 0),
    ]
    assert insured.reservedAmount() == 1_300 * USDT


def test_post_verifications__same_claim_twice__second_skipped(insured, file_claim, validator):
    a = file_claim(1_000 * USDT)

    receipt = insured.postVerifications(
        [verdict(a, True, 800 * USDT), verdict(a, True, 800 * USDT)], sender=validator
    )

    assert receipt.events == [
        insured.ClaimVerified(a, validator, True, 800 * USDT, EVIDENCE, 0),
        insured.VerificationSkipped(a, SKIP_WRONG_STATUS),
    ]
    assert insured.reservedAmount() == 800 * USDT


def test_post_verifications__unknown_claim__reverts_whole_batch(insured, file_claim, validator):
    a = file_claim(1_000 * USDT)

    with ape.reverts(insured.InvalidClaimStatus, claimId=UNKNOWN_CLAIM, status=NONE):
        insured.postVerifications(
            [verdict(a, True, 800 * USDT), verdict(UNKNOWN_CLAIM, False, 0)], sender=validator
        )

    assert insured.getClaim(a).status == PENDING
    assert insured.reservedAmount() == 0


def test_post_verifications__invalid_item__reverts_whole_batch(insured, file_claim, validator):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)

    with ape.reverts(insured.PayoutTooLarge, payout=1_001 * USDT, cap=1_000 * USDT):
        insured.postVerifications(
            [verdict(a, True, 800 * USDT), verdict(b, True, 1_001 * USDT)], sender=validator
        )

    assert insured.getClaim(a).status == PENDING


def test_post_verifications__empty_batch__reverts(insured, validator):
    with ape.reverts(insured.EmptyBatch):
        insured.postVerifications([], sender=validator)


def test_post_verifications__201_items__reverts_batch_too_large(insured, validator):
    with ape.reverts(insured.BatchTooLarge, length=201, max=200):
        insured.postVerifications([verdict(i, False, 0) for i in range(1, 202)], sender=validator)


def test_post_verifications__not_validator__reverts(insured, file_claim, stranger):
    claim_id = file_claim()

    with ape.reverts(
        insured.AccessControlUnauthorizedAccount, account=stranger, neededRole=insured.VALIDATOR_ROLE()
    ):
        insured.postVerifications([verdict(claim_id, False, 0)], sender=stranger)


def test_post_verifications__validator_is_claimant__reverts_conflict(insured, file_claim, trader_validator):
    claim_id = file_claim(by=trader_validator)

    with ape.reverts(insured.ConflictOfInterest, claimId=claim_id, validator=trader_validator):
        insured.postVerifications([verdict(claim_id, False, 0)], sender=trader_validator)


# ================================================================== vetoClaim


def test_veto_claim__by_guardian__releases_reservation_and_emits(insured, approved_claim, guardian, trader):
    decided_at = insured.getClaim(approved_claim).decidedAt

    receipt = insured.vetoClaim(approved_claim, 100, sender=guardian)

    assert receipt.events == [insured.ClaimVetoed(approved_claim, guardian, trader, 800 * USDT, 100)]
    claim = insured.getClaim(approved_claim)
    assert (claim.status, claim.payout, claim.reasonCode, claim.decidedAt, claim.payableAt) == (
        REJECTED,
        0,
        100,
        decided_at,
        0,
    )
    assert insured.reservedAmount() == 0
    assert insured.freeBalance() == POOL_FUNDS
    assert insured.getPolicy(trader).used == 0
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT


def test_veto_claim__by_governance__emits_with_guard_as_by(insured, approved_claim, gov, signers, trader):
    proposal_id = gov.propose(insured.vetoClaim, approved_claim, 7)
    insured.confirm(proposal_id, sender=signers[1])

    receipt = insured.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        insured.ProposalExecuted(proposal_id, signers[0]),
        insured.ClaimVetoed(approved_claim, insured, trader, 800 * USDT, 7),
    ]
    assert insured.getClaim(approved_claim).status == REJECTED


@pytest.mark.parametrize("who", ["stranger", "validator", "registrar", "trader"])
def test_veto_claim__by_others__reverts_unauthorized(
    insured, approved_claim, stranger, validator, registrar, trader, who
):
    caller = {"stranger": stranger, "validator": validator, "registrar": registrar, "trader": trader}[who]

    with ape.reverts(insured.Unauthorized, account=caller):
        insured.vetoClaim(approved_claim, 100, sender=caller)

    assert insured.getClaim(approved_claim).status == APPROVED


def test_veto_claim__last_second_of_window__succeeds(insured, approved_claim, guardian):
    chain.pending_timestamp = window_end(insured, approved_claim) - 1

    insured.vetoClaim(approved_claim, 100, sender=guardian)

    assert insured.getClaim(approved_claim).status == REJECTED


def test_veto_claim__window_over__reverts(insured, approved_claim, guardian):
    ended_at = window_end(insured, approved_claim)
    chain.pending_timestamp = ended_at

    with ape.reverts(insured.ChallengePeriodOver, claimId=approved_claim, endedAt=ended_at):
        insured.vetoClaim(approved_claim, 100, sender=guardian)

    assert insured.reservedAmount() == 800 * USDT


def test_veto_claim__challenge_period_changed_after_approval__window_as_stamped(
    insured, gov, approved_claim, guardian
):
    """The window is stamped at approval: a later period change (shorter or longer) does not move it."""
    stamped = window_end(insured, approved_claim)
    assert stamped == insured.getClaim(approved_claim).decidedAt + CHALLENGE_PERIOD
    gov(insured.setChallengePeriod, 30 * DAY)
    assert window_end(insured, approved_claim) == stamped
    chain.pending_timestamp = stamped

    with ape.reverts(insured.ChallengePeriodOver, claimId=approved_claim, endedAt=stamped):
        insured.vetoClaim(approved_claim, 100, sender=guardian)


def test_veto_claim__pending__reverts(insured, file_claim, guardian):
    claim_id = file_claim()

    with ape.reverts(insured.InvalidClaimStatus, claimId=claim_id, status=PENDING):
        insured.vetoClaim(claim_id, 100, sender=guardian)


def test_veto_claim__unknown__reverts(insured, guardian):
    with ape.reverts(insured.InvalidClaimStatus, claimId=UNKNOWN_CLAIM, status=NONE):
        insured.vetoClaim(UNKNOWN_CLAIM, 100, sender=guardian)


def test_veto_claim__twice__reverts(insured, approved_claim, guardian):
    insured.vetoClaim(approved_claim, 100, sender=guardian)

    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=REJECTED):
        insured.vetoClaim(approved_claim, 100, sender=guardian)

    assert insured.reservedAmount() == 0


def test_veto_claim__paid__reverts(insured, gov, approved_claim, guardian, stranger):
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(approved_claim, sender=stranger)
    gov(insured.setChallengePeriod, 30 * DAY)  # the window is open again, but the claim is paid

    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=PAID):
        insured.vetoClaim(approved_claim, 100, sender=guardian)


def test_veto_claim__vetoed_claim__cannot_be_paid(insured, approved_claim, guardian, stranger, trader, token):
    insured.vetoClaim(approved_claim, 100, sender=guardian)
    chain.pending_timestamp += CHALLENGE_PERIOD

    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=REJECTED):
        insured.executePayout(approved_claim, sender=stranger)

    assert token.balanceOf(trader) == 0


# ================================================================== executePayout


def test_execute_payout__window_open__reverts(insured, approved_claim, stranger):
    ends_at = window_end(insured, approved_claim)
    chain.pending_timestamp = ends_at - 1

    with ape.reverts(insured.ChallengePeriodActive, claimId=approved_claim, endsAt=ends_at):
        insured.executePayout(approved_claim, sender=stranger)


def test_execute_payout__at_window_end__pays_trader_and_emits(
    insured, approved_claim, stranger, trader, token
):
    ends_at = window_end(insured, approved_claim)
    chain.pending_timestamp = ends_at

    receipt = insured.executePayout(approved_claim, sender=stranger)

    assert receipt.timestamp == ends_at
    assert receipt.events == [
        token.Transfer(insured, trader, 800 * USDT),
        insured.PayoutExecuted(approved_claim, trader, 800 * USDT),
    ]
    assert token.balanceOf(trader) == 800 * USDT
    assert token.balanceOf(insured) == POOL_FUNDS - 800 * USDT
    assert token.balanceOf(stranger) == 0
    claim = insured.getClaim(approved_claim)
    assert (claim.status, claim.payout) == (PAID, 800 * USDT)
    assert insured.getPolicy(trader).used == 800 * USDT
    assert claim.payableAt == ends_at
    assert insured.reservedAmount() == 0
    assert insured.freeBalance() == POOL_FUNDS - 800 * USDT
    assert insured.paidOutToday() == 800 * USDT
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 800 * USDT


def test_execute_payout__by_the_trader__pays(insured, approved_claim, trader, token):
    chain.pending_timestamp += CHALLENGE_PERIOD

    insured.executePayout(approved_claim, sender=trader)

    assert token.balanceOf(trader) == 800 * USDT


def test_execute_payout__twice__reverts(insured, approved_claim, stranger, trader, token):
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(approved_claim, sender=stranger)

    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=PAID):
        insured.executePayout(approved_claim, sender=stranger)

    assert token.balanceOf(trader) == 800 * USDT


def test_execute_payout__pending__reverts(insured, file_claim, stranger):
    claim_id = file_claim()

    with ape.reverts(insured.InvalidClaimStatus, claimId=claim_id, status=PENDING):
        insured.executePayout(claim_id, sender=stranger)


def test_execute_payout__unknown__reverts(insured, stranger):
    with ape.reverts(insured.InvalidClaimStatus, claimId=UNKNOWN_CLAIM, status=NONE):
        insured.executePayout(UNKNOWN_CLAIM, sender=stranger)


def test_execute_payout__blacklisted_trader__reverts_until_lifted(
    insured, gov, approved_claim, guardian, stranger, trader, token
):
    insured.addToBlacklist([trader], sender=guardian)
    chain.pending_timestamp += CHALLENGE_PERIOD

    with ape.reverts(insured.UserBlacklisted, user=trader):
        insured.executePayout(approved_claim, sender=stranger)
    assert insured.reservedAmount() == 800 * USDT

    gov(insured.removeFromBlacklist, [trader])
    insured.executePayout(approved_claim, sender=stranger)
    assert token.balanceOf(trader) == 800 * USDT


def test_execute_payout__over_daily_payout_limit__reverts(
    insured, gov, file_claim, validator, stranger, token, trader
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    approve(insured, validator, a, 800 * USDT)
    approve(insured, validator, b, 800 * USDT)
    gov.set_daily_payout_limit(1_000 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(a, sender=stranger)

    with ape.reverts(insured.DailyPayoutLimitExceeded, requested=800 * USDT, remaining=200 * USDT):
        insured.executePayout(b, sender=stranger)

    assert token.balanceOf(trader) == 800 * USDT
    assert insured.paidOutToday() == 800 * USDT


def test_execute_payout__daily_payout_limit_zero__reverts(insured, gov, approved_claim, stranger):
    gov.set_daily_payout_limit(0)
    chain.pending_timestamp += CHALLENGE_PERIOD

    with ape.reverts(insured.DailyPayoutLimitExceeded, requested=800 * USDT, remaining=0):
        insured.executePayout(approved_claim, sender=stranger)


def test_execute_payout__limit_lowered_below_paid_today__reports_zero_remaining(
    insured, gov, file_claim, validator, stranger
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    approve(insured, validator, a, 800 * USDT)
    approve(insured, validator, b, 100 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(a, sender=stranger)
    gov.set_daily_payout_limit(500 * USDT)

    with ape.reverts(insured.DailyPayoutLimitExceeded, requested=100 * USDT, remaining=0):
        insured.executePayout(b, sender=stranger)


def test_execute_payout__shortest_challenge_period__pays_after_an_hour(
    insured, gov, file_claim, validator, stranger, token, trader
):
    gov(insured.setChallengePeriod, insured.MIN_CHALLENGE_PERIOD())
    claim_id = file_claim()
    decided_at = approve(insured, validator, claim_id, 500 * USDT).timestamp
    assert window_end(insured, claim_id) == decided_at + 3_600
    chain.pending_timestamp = decided_at + 3_600

    insured.executePayout(claim_id, sender=stranger)

    assert token.balanceOf(trader) == 500 * USDT


def test_execute_payout__challenge_period_raised__approved_claims_keep_their_payable_at(
    insured, gov, approved_claim, file_claim, validator, stranger, token, trader
):
    """1.1 stamps payableAt at approval: raising the period applies to later approvals only."""
    gov(insured.setChallengePeriod, 2 * CHALLENGE_PERIOD)
    decided_at = insured.getClaim(approved_claim).decidedAt
    later = file_claim()
    later_at = approve(insured, validator, later, 100 * USDT).timestamp
    chain.pending_timestamp = decided_at + CHALLENGE_PERIOD

    insured.executePayout(approved_claim, sender=stranger)

    assert token.balanceOf(trader) == 800 * USDT
    assert window_end(insured, later) == later_at + 2 * CHALLENGE_PERIOD
    with ape.reverts(insured.ChallengePeriodActive, claimId=later, endsAt=later_at + 2 * CHALLENGE_PERIOD):
        insured.executePayout(later, sender=stranger)


def test_execute_payout__challenge_period_lowered__approved_claims_keep_their_payable_at(
    insured, gov, file_claim, validator, stranger
):
    gov(insured.setChallengePeriod, 10 * CHALLENGE_PERIOD)
    claim_id = file_claim()
    decided_at = approve(insured, validator, claim_id, 100 * USDT).timestamp
    gov(insured.setChallengePeriod, CHALLENGE_PERIOD)
    chain.pending_timestamp = decided_at + CHALLENGE_PERIOD

    with ape.reverts(
        insured.ChallengePeriodActive, claimId=claim_id, endsAt=decided_at + 10 * CHALLENGE_PERIOD
    ):
        insured.executePayout(claim_id, sender=stranger)


def test_execute_payout__paid_out_today__rolls_over_at_utc_midnight(
    insured, gov, file_claim, validator, stranger, token, trader
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    approve(insured, validator, a, 800 * USDT)
    approve(insured, validator, b, 800 * USDT)
    gov.set_daily_payout_limit(1_000 * USDT)
    day_start = next_day_start()
    midnight = day_start + DAY
    chain.pending_timestamp = day_start + CHALLENGE_PERIOD
    insured.executePayout(a, sender=stranger)
    assert insured.paidOutToday() == 800 * USDT

    chain.pending_timestamp = midnight - 1
    with ape.reverts(insured.DailyPayoutLimitExceeded, requested=800 * USDT, remaining=200 * USDT):
        insured.executePayout(b, sender=stranger)
    chain.mine(timestamp=midnight - 1)
    assert insured.paidOutToday() == 800 * USDT

    chain.mine(timestamp=midnight)
    assert insured.paidOutToday() == 0
    # Pinned: after a mined block anvil's clock runs on with wall time.
    chain.pending_timestamp = midnight + 1
    receipt = insured.executePayout(b, sender=stranger)
    assert receipt.timestamp == midnight + 1
    assert insured.paidOutToday() == 800 * USDT
    assert token.balanceOf(trader) == 1_600 * USDT


# ================================================================== executePayouts


def test_execute_payouts__pays_several_and_emits(
    insured, file_claim, validator, stranger, trader, other_trader, token
):
    a = file_claim(1_000 * USDT)
    b = file_claim(2_000 * USDT, by=other_trader)
    c = file_claim(3_000 * USDT)
    insured.postVerifications(
        [verdict(a, True, 1_000 * USDT), verdict(b, True, 1_500 * USDT), verdict(c, True, 3_000 * USDT)],
        sender=validator,
    )
    chain.pending_timestamp += CHALLENGE_PERIOD

    receipt = insured.executePayouts([a, b, c], sender=stranger)

    assert receipt.events == [
        token.Transfer(insured, trader, 1_000 * USDT),
        insured.PayoutExecuted(a, trader, 1_000 * USDT),
        token.Transfer(insured, other_trader, 1_500 * USDT),
        insured.PayoutExecuted(b, other_trader, 1_500 * USDT),
        token.Transfer(insured, trader, 3_000 * USDT),
        insured.PayoutExecuted(c, trader, 3_000 * USDT),
    ]
    assert token.balanceOf(trader) == 4_000 * USDT
    assert token.balanceOf(other_trader) == 1_500 * USDT
    assert token.balanceOf(insured) == POOL_FUNDS - 5_500 * USDT
    assert insured.reservedAmount() == 0
    assert insured.paidOutToday() == 5_500 * USDT
    assert insured.getPolicy(trader).used == 4_000 * USDT
    assert insured.getPolicy(other_trader).used == 1_500 * USDT
    assert [insured.getClaim(i).status for i in (a, b, c)] == [PAID, PAID, PAID]


def test_execute_payouts__skips_claims_not_payable(
    insured, file_claim, validator, guardian, stranger, trader, other_trader, token
):
    paid = file_claim(1_000 * USDT)
    payable = file_claim(1_000 * USDT)
    blocked = file_claim(1_000 * USDT, by=other_trader)
    approve(insured, validator, paid, 100 * USDT)
    approve(insured, validator, payable, 200 * USDT)
    approve(insured, validator, blocked, 300 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(paid, sender=stranger)
    insured.addToBlacklist([other_trader], sender=guardian)
    window_open = file_claim(1_000 * USDT)
    approve(insured, validator, window_open, 400 * USDT)
    pending = file_claim(1_000 * USDT)
    rejected = file_claim(1_000 * USDT)
    insured.postVerification(rejected, False, 0, EVIDENCE, 1, sender=validator)

    batch = [payable, pending, window_open, paid, payable, rejected, blocked, UNKNOWN_CLAIM]
    receipt = insured.executePayouts(batch, sender=stranger)

    assert receipt.events == [
        token.Transfer(insured, trader, 200 * USDT),
        insured.PayoutExecuted(payable, trader, 200 * USDT),
        insured.PayoutSkipped(pending, SKIP_WRONG_STATUS),
        insured.PayoutSkipped(window_open, SKIP_CHALLENGE_WINDOW_OPEN),
        insured.PayoutSkipped(paid, SKIP_WRONG_STATUS),
        insured.PayoutSkipped(payable, SKIP_WRONG_STATUS),
        insured.PayoutSkipped(rejected, SKIP_WRONG_STATUS),
        insured.PayoutSkipped(blocked, SKIP_USER_BLACKLISTED),
        insured.PayoutSkipped(UNKNOWN_CLAIM, SKIP_WRONG_STATUS),
    ]
    assert token.balanceOf(trader) == 300 * USDT
    assert token.balanceOf(other_trader) == 0
    assert insured.reservedAmount() == 700 * USDT
    assert insured.paidOutToday() == 300 * USDT
    assert [insured.getClaim(i).status for i in (pending, window_open, blocked)] == [
        PENDING,
        APPROVED,
        APPROVED,
    ]


def test_execute_payouts__same_claim_twice__paid_once(insured, approved_claim, stranger, trader, token):
    chain.pending_timestamp += CHALLENGE_PERIOD

    receipt = insured.executePayouts([approved_claim, approved_claim], sender=stranger)

    assert receipt.events == [
        token.Transfer(insured, trader, 800 * USDT),
        insured.PayoutExecuted(approved_claim, trader, 800 * USDT),
        insured.PayoutSkipped(approved_claim, SKIP_WRONG_STATUS),
    ]
    assert token.balanceOf(trader) == 800 * USDT
    assert token.balanceOf(insured) == POOL_FUNDS - 800 * USDT
    assert insured.getPolicy(trader).used == 800 * USDT


def test_execute_payouts__over_daily_limit__skips_and_pays_what_fits(
    insured, gov, file_claim, validator, stranger, trader, token
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    c = file_claim(1_000 * USDT)
    insured.postVerifications(
        [verdict(a, True, 800 * USDT), verdict(b, True, 800 * USDT), verdict(c, True, 150 * USDT)],
        sender=validator,
    )
    gov.set_daily_payout_limit(1_000 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD

    receipt = insured.executePayouts([a, b, c], sender=stranger)

    assert receipt.events == [
        token.Transfer(insured, trader, 800 * USDT),
        insured.PayoutExecuted(a, trader, 800 * USDT),
        insured.PayoutSkipped(b, SKIP_DAILY_PAYOUT_LIMIT),
        token.Transfer(insured, trader, 150 * USDT),
        insured.PayoutExecuted(c, trader, 150 * USDT),
    ]
    assert token.balanceOf(trader) == 950 * USDT
    assert insured.paidOutToday() == 950 * USDT
    assert insured.getClaim(b).status == APPROVED
    assert insured.reservedAmount() == 800 * USDT


def test_execute_payouts__counts_earlier_payouts_of_the_day(
    insured, gov, file_claim, validator, stranger, token, trader
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    approve(insured, validator, a, 800 * USDT)
    approve(insured, validator, b, 300 * USDT)
    gov.set_daily_payout_limit(1_000 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayouts([a], sender=stranger)

    receipt = insured.executePayouts([b], sender=stranger)

    assert receipt.events == [insured.PayoutSkipped(b, SKIP_DAILY_PAYOUT_LIMIT)]
    assert token.balanceOf(trader) == 800 * USDT


def test_execute_payouts__nothing_payable__no_transfer(insured, approved_claim, file_claim, stranger, token):
    pending = file_claim()

    receipt = insured.executePayouts([approved_claim, pending], sender=stranger)

    assert receipt.events == [
        insured.PayoutSkipped(approved_claim, SKIP_CHALLENGE_WINDOW_OPEN),
        insured.PayoutSkipped(pending, SKIP_WRONG_STATUS),
    ]
    assert token.balanceOf(insured) == POOL_FUNDS
    assert insured.paidOutToday() == 0
    assert insured.reservedAmount() == 800 * USDT


def test_execute_payouts__empty_batch__reverts(insured, stranger):
    with ape.reverts(insured.EmptyBatch):
        insured.executePayouts([], sender=stranger)


def test_execute_payouts__201_claims__reverts_batch_too_large(insured, stranger):
    with ape.reverts(insured.BatchTooLarge, length=201, max=200):
        insured.executePayouts(list(range(1, 202)), sender=stranger)


# ================================================================== invariant spot checks


def assert_reservations_consistent(guard: Any, claim_ids: list[int]) -> None:
    """totalAssets >= reservedAmount, reservedAmount = sum of approved unpaid payouts, free = the rest."""
    reserved = guard.reservedAmount()
    total = guard.totalAssets()
    expected = sum(c.payout for c in (guard.getClaim(i) for i in claim_ids) if c.status == APPROVED)
    assert reserved == expected
    assert total >= reserved
    assert guard.freeBalance() == total - reserved


def test_invariant__total_assets_cover_reservations_through_a_scenario(
    insured, gov, file_claim, validator, guardian, registrar, trader, other_trader, stranger, sponsor, token
):
    claims: list[int] = []

    def step() -> None:
        assert_reservations_consistent(insured, claims)

    gov(insured.setDailyWithdrawalLimit, POOL_FUNDS)
    gov(insured.withdraw, stranger, POOL_FUNDS - 6_000 * USDT)  # leave a thin pool
    step()
    claims += [file_claim(5_000 * USDT), file_claim(4_000 * USDT, by=other_trader), file_claim(2_000 * USDT)]
    step()
    approve(insured, validator, claims[0], 5_000 * USDT)
    step()
    with ape.reverts(insured.InsufficientFreeBalance, needed=4_000 * USDT, free=1_000 * USDT):
        approve(insured, validator, claims[1], 4_000 * USDT)
    with ape.reverts(insured.InsufficientFreeBalance, needed=1_001 * USDT, free=1_000 * USDT):
        gov(insured.withdraw, stranger, 1_001 * USDT)
    step()
    insured.postVerifications(
        [verdict(claims[1], True, 1_000 * USDT), verdict(claims[2], False, 0)], sender=validator
    )
    step()
    assert insured.freeBalance() == 0
    insured.vetoClaim(claims[1], 100, sender=guardian)
    step()
    token.mint(sponsor, 3_000 * USDT, sender=sponsor)
    token.approve(insured, 3_000 * USDT, sender=sponsor)
    insured.deposit(3_000 * USDT, sender=sponsor)
    step()
    claims.append(file_claim(1_000 * USDT, by=other_trader))
    approve(insured, validator, claims[3], 1_000 * USDT)
    step()
    insured.addToBlacklist([other_trader], sender=registrar)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayouts(claims, sender=stranger)
    step()
    assert insured.getClaim(claims[0]).status == PAID
    assert insured.getClaim(claims[3]).status == APPROVED  # blacklisted: stays reserved
    gov(insured.withdraw, stranger, insured.freeBalance())
    step()
    assert insured.totalAssets() == insured.reservedAmount() == 1_000 * USDT
    gov(insured.removeFromBlacklist, [other_trader])
    insured.executePayout(claims[3], sender=stranger)
    step()
    assert insured.totalAssets() == 0
    assert token.balanceOf(trader) == 5_000 * USDT
    assert token.balanceOf(other_trader) == 1_000 * USDT


# ================================================================== daily approval limit


@pytest.fixture
def approval_limit(insured, gov) -> int:
    """The daily approval limit lowered to 1,000 USDT."""
    gov(insured.setDailyApprovalLimit, 1_000 * USDT)
    return 1_000 * USDT


def test_approval_limit__configured_value(guard):
    assert guard.dailyApprovalLimit() == DAILY_APPROVAL_LIMIT
    assert guard.approvedToday() == 0


def test_approval_limit__single_over_remaining__reverts(insured, approval_limit, file_claim, validator):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    approve(insured, validator, a, 800 * USDT)

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=300 * USDT, remaining=200 * USDT):
        approve(insured, validator, b, 300 * USDT)

    approve(insured, validator, b, 200 * USDT)
    assert insured.approvedToday() == 1_000 * USDT
    assert insured.reservedAmount() == 1_000 * USDT


def test_approval_limit__batch_accumulates_items(insured, approval_limit, file_claim, validator):
    a, b, c = file_claim(1_000 * USDT), file_claim(1_000 * USDT), file_claim(1_000 * USDT)

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=500 * USDT, remaining=400 * USDT):
        insured.postVerifications(
            [verdict(a, True, 600 * USDT), verdict(b, True, 500 * USDT)], sender=validator
        )
    assert insured.approvedToday() == 0

    insured.postVerifications(
        [verdict(a, True, 600 * USDT), verdict(b, False, 0), verdict(c, True, 400 * USDT)], sender=validator
    )
    assert insured.approvedToday() == 1_000 * USDT
    assert insured.reservedAmount() == 1_000 * USDT


def test_approval_limit__counts_earlier_approvals_of_the_day(insured, approval_limit, file_claim, validator):
    a, b = file_claim(1_000 * USDT), file_claim(1_000 * USDT)
    approve(insured, validator, a, 700 * USDT)

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=301 * USDT, remaining=300 * USDT):
        insured.postVerifications([verdict(b, True, 301 * USDT)], sender=validator)


def test_approval_limit__rejections_and_skips_do_not_count(insured, approval_limit, file_claim, validator):
    a, b = file_claim(), file_claim()
    approve(insured, validator, a, 1_000 * USDT)

    insured.postVerifications([verdict(a, True, 1 * USDT), verdict(b, False, 0)], sender=validator)

    assert insured.approvedToday() == 1_000 * USDT
    assert insured.getClaim(b).status == REJECTED


def test_approval_limit__veto_does_not_give_approvals_back(
    insured, approval_limit, file_claim, validator, guardian
):
    a, b = file_claim(), file_claim()
    approve(insured, validator, a, 1_000 * USDT)
    insured.vetoClaim(a, 100, sender=guardian)

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=1, remaining=0):
        approve(insured, validator, b, 1)

    assert insured.approvedToday() == 1_000 * USDT
    assert insured.reservedAmount() == 0


def test_approval_limit__zero__closes_approvals_not_rejections(insured, gov, file_claim, validator):
    gov(insured.setDailyApprovalLimit, 0)
    a, b = file_claim(), file_claim()

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=1, remaining=0):
        approve(insured, validator, a, 1)
    insured.postVerification(b, False, 0, EVIDENCE, 3, sender=validator)

    assert insured.getClaim(b).status == REJECTED


def test_approval_limit__lowered_below_approved_today__zero_remaining(insured, file_claim, validator, gov):
    a, b = file_claim(), file_claim()
    approve(insured, validator, a, 900 * USDT)
    gov(insured.setDailyApprovalLimit, 500 * USDT)

    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=1, remaining=0):
        approve(insured, validator, b, 1)


def test_approval_limit__rolls_over_at_utc_midnight(insured, approval_limit, file_claim, validator):
    a, b, c = file_claim(), file_claim(), file_claim()
    day_start = next_day_start()
    midnight = day_start + DAY
    chain.pending_timestamp = day_start + 60
    approve(insured, validator, a, 1_000 * USDT)

    chain.pending_timestamp = midnight - 1
    with ape.reverts(insured.DailyApprovalLimitExceeded, requested=1, remaining=0):
        approve(insured, validator, b, 1)
    chain.mine(timestamp=midnight - 1)
    assert insured.approvedToday() == 1_000 * USDT

    chain.mine(timestamp=midnight)
    assert insured.approvedToday() == 0
    chain.pending_timestamp = midnight + 1
    insured.postVerifications([verdict(b, True, 600 * USDT), verdict(c, True, 400 * USDT)], sender=validator)
    assert insured.approvedToday() == 1_000 * USDT


# ================================================================== vetoClaims


def test_veto_claims__by_guardian__vetoes_each_and_releases(
    insured, file_claim, validator, guardian, trader, other_trader
):
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT, by=other_trader)
    insured.postVerifications([verdict(a, True, 800 * USDT), verdict(b, True, 300 * USDT)], sender=validator)

    receipt = insured.vetoClaims([a, b], 100, sender=guardian)

    assert receipt.events == [
        insured.ClaimVetoed(a, guardian, trader, 800 * USDT, 100),
        insured.ClaimVetoed(b, guardian, other_trader, 300 * USDT, 100),
    ]
    assert [insured.getClaim(i).status for i in (a, b)] == [REJECTED, REJECTED]
    assert insured.reservedAmount() == 0
    assert insured.getPolicy(trader).used == 0
    assert insured.getPolicy(other_trader).used == 0


def test_veto_claims__not_vetoable__skipped_with_reason(
    insured, file_claim, validator, guardian, stranger, trader
):
    over = file_claim()
    paid = file_claim()
    approve(insured, validator, over, 100 * USDT)
    approve(insured, validator, paid, 200 * USDT)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(paid, sender=stranger)
    open_ = file_claim()
    approve(insured, validator, open_, 300 * USDT)
    pending = file_claim()

    receipt = insured.vetoClaims([pending, over, open_, paid, open_, UNKNOWN_CLAIM], 100, sender=guardian)

    assert receipt.events == [
        insured.VetoSkipped(pending, SKIP_WRONG_STATUS),
        insured.VetoSkipped(over, SKIP_CHALLENGE_WINDOW_OVER),
        insured.ClaimVetoed(open_, guardian, trader, 300 * USDT, 100),
        insured.VetoSkipped(paid, SKIP_WRONG_STATUS),
        insured.VetoSkipped(open_, SKIP_WRONG_STATUS),
        insured.VetoSkipped(UNKNOWN_CLAIM, SKIP_WRONG_STATUS),
    ]
    assert insured.getClaim(over).status == APPROVED
    assert insured.reservedAmount() == 100 * USDT


def test_veto_claims__by_governance__by_is_the_guard(insured, gov, approved_claim, signers, trader):
    receipt = gov(insured.vetoClaims, [approved_claim], 7)

    assert receipt.events == [
        insured.ProposalExecuted(insured.proposalCount(), signers[0]),
        insured.ClaimVetoed(approved_claim, insured, trader, 800 * USDT, 7),
    ]


@pytest.mark.parametrize("who", ["stranger", "validator", "registrar", "trader"])
def test_veto_claims__by_others__reverts_unauthorized(
    insured, approved_claim, stranger, validator, registrar, trader, who
):
    caller = {"stranger": stranger, "validator": validator, "registrar": registrar, "trader": trader}[who]

    with ape.reverts(insured.Unauthorized, account=caller):
        insured.vetoClaims([approved_claim], 100, sender=caller)


def test_veto_claims__empty_or_too_large_batch__reverts(insured, guardian):
    with ape.reverts(insured.EmptyBatch):
        insured.vetoClaims([], 100, sender=guardian)
    with ape.reverts(insured.BatchTooLarge, length=201, max=200):
        insured.vetoClaims(list(range(1, 202)), 100, sender=guardian)


# ================================================================== cancelApprovedClaim


def test_cancel_approved_claim__after_window__releases_and_emits(
    insured, gov, approved_claim, signers, trader, stranger
):
    chain.pending_timestamp = window_end(insured, approved_claim) + DAY

    receipt = gov(insured.cancelApprovedClaim, approved_claim, 55)

    assert receipt.events == [
        insured.ProposalExecuted(insured.proposalCount(), signers[0]),
        insured.ClaimCancelled(approved_claim, trader, 800 * USDT, 55),
    ]
    claim = insured.getClaim(approved_claim)
    assert (claim.status, claim.payout, claim.reasonCode, claim.payableAt) == (REJECTED, 0, 55, 0)
    assert insured.reservedAmount() == 0
    assert insured.freeBalance() == POOL_FUNDS
    assert insured.getPolicy(trader).used == 0
    with ape.reverts(insured.InvalidClaimStatus, claimId=approved_claim, status=REJECTED):
        insured.executePayout(approved_claim, sender=stranger)


def test_cancel_approved_claim__blacklisted_trader__frees_the_reservation(
    insured, gov, approved_claim, guardian, trader, stranger
):
    insured.addToBlacklist([trader], sender=guardian)
    chain.pending_timestamp = window_end(insured, approved_claim)
    receipt = insured.executePayouts([approved_claim], sender=stranger)
    assert receipt.events == [insured.PayoutSkipped(approved_claim, SKIP_USER_BLACKLISTED)]

    gov(insured.cancelApprovedClaim, approved_claim, 4)

    assert insured.reservedAmount() == 0
    gov(insured.withdraw, stranger, 20_000 * USDT)
    assert insured.totalAssets() == POOL_FUNDS - 20_000 * USDT


@pytest.mark.parametrize("state", ["unknown", "pending", "rejected", "paid"])
def test_cancel_approved_claim__not_approved__reverts(
    insured, gov, approved_claim, file_claim, validator, stranger, state
):
    expected_status = {"unknown": NONE, "pending": PENDING, "rejected": REJECTED, "paid": PAID}[state]
    if state == "unknown":
        claim_id = UNKNOWN_CLAIM
    elif state == "pending":
        claim_id = file_claim()
    elif state == "rejected":
        claim_id = file_claim()
        insured.postVerification(claim_id, False, 0, EVIDENCE, 1, sender=validator)
    else:
        claim_id = approved_claim
        chain.pending_timestamp = window_end(insured, claim_id)
        insured.executePayout(claim_id, sender=stranger)

    with ape.reverts(insured.InvalidClaimStatus, claimId=claim_id, status=expected_status):
        gov(insured.cancelApprovedClaim, claim_id, 1)


@pytest.mark.parametrize("who", ["guardian", "validator", "stranger"])
def test_cancel_approved_claim__direct_call__reverts_only_governance(
    insured, approved_claim, guardian, validator, stranger, who
):
    caller = {"guardian": guardian, "validator": validator, "stranger": stranger}[who]

    with ape.reverts(insured.OnlyGovernance, caller=caller):
        insured.cancelApprovedClaim(approved_claim, 1, sender=caller)


# ================================================================== reopenClaim


def test_reopen_claim__rejected__pending_again_and_reverifiable(
    insured, gov, file_claim, validator, signers, trader
):
    claim_id = file_claim(1_000 * USDT)
    insured.postVerification(claim_id, False, 0, EVIDENCE, 31, sender=validator)
    submitted_at = insured.getClaim(claim_id).submittedAt

    receipt = gov(insured.reopenClaim, claim_id)

    assert receipt.events == [
        insured.ProposalExecuted(insured.proposalCount(), signers[0]),
        insured.ClaimReopened(claim_id, trader),
    ]
    assert insured.getClaim(claim_id) == (trader, OKX, PENDING, 1_000 * USDT, 0, submitted_at, 0, 0, 0)
    verdict_receipt = approve(insured, validator, claim_id, 700 * USDT)
    claim = insured.getClaim(claim_id)
    assert (claim.status, claim.payout, claim.decidedAt, claim.payableAt) == (
        APPROVED,
        700 * USDT,
        verdict_receipt.timestamp,
        verdict_receipt.timestamp + CHALLENGE_PERIOD,
    )
    assert insured.reservedAmount() == 700 * USDT


def test_reopen_claim__vetoed__batch_verdict_decides_it_again(
    insured, gov, approved_claim, guardian, validator
):
    insured.vetoClaim(approved_claim, 100, sender=guardian)
    gov(insured.reopenClaim, approved_claim)

    receipt = insured.postVerifications([verdict(approved_claim, True, 500 * USDT)], sender=validator)

    assert receipt.events == [insured.ClaimVerified(approved_claim, validator, True, 500 * USDT, EVIDENCE, 0)]
    assert insured.reservedAmount() == 500 * USDT


def test_reopen_claim__cancelled__order_stays_taken(insured, gov, approved_claim, trader):
    gov(insured.cancelApprovedClaim, approved_claim, 2)
    gov(insured.reopenClaim, approved_claim)

    with ape.reverts(insured.DuplicateClaim, existingClaimId=approved_claim):
        insured.submitClaim(OKX, "order-1", INSTRUMENT, 1 * USDT, sender=trader)
    assert insured.getClaim(approved_claim).status == PENDING


@pytest.mark.parametrize("state", ["unknown", "pending", "approved", "paid"])
def test_reopen_claim__not_rejected__reverts(insured, gov, approved_claim, file_claim, stranger, state):
    expected_status = {"unknown": NONE, "pending": PENDING, "approved": APPROVED, "paid": PAID}[state]
    claim_id = {
        "unknown": UNKNOWN_CLAIM,
        "pending": None,
        "approved": approved_claim,
        "paid": approved_claim,
    }[state]
    if state == "pending":
        claim_id = file_claim()
    if state == "paid":
        chain.pending_timestamp = window_end(insured, claim_id)
        insured.executePayout(claim_id, sender=stranger)

    with ape.reverts(insured.InvalidClaimStatus, claimId=claim_id, status=expected_status):
        gov(insured.reopenClaim, claim_id)


@pytest.mark.parametrize("who", ["guardian", "validator", "stranger"])
def test_reopen_claim__direct_call__reverts_only_governance(
    insured, file_claim, validator, guardian, stranger, who
):
    caller = {"guardian": guardian, "validator": validator, "stranger": stranger}[who]
    claim_id = file_claim()
    insured.postVerification(claim_id, False, 0, EVIDENCE, 1, sender=validator)

    with ape.reverts(insured.OnlyGovernance, caller=caller):
        insured.reopenClaim(claim_id, sender=caller)


def test_skip_reasons__match_the_contract_constants(guard):
    """support.pool's SKIP_* are the contract's (one copy of each number the chain defines)."""
    assert [
        guard.SKIP_WRONG_STATUS(),
        guard.SKIP_CHALLENGE_WINDOW_OPEN(),
        guard.SKIP_CHALLENGE_WINDOW_OVER(),
        guard.SKIP_USER_BLACKLISTED(),
        guard.SKIP_DAILY_PAYOUT_LIMIT(),
    ] == [
        SKIP_WRONG_STATUS,
        SKIP_CHALLENGE_WINDOW_OPEN,
        SKIP_CHALLENGE_WINDOW_OVER,
        SKIP_USER_BLACKLISTED,
        SKIP_DAILY_PAYOUT_LIMIT,
    ]
    assert guard.MAX_ORDER_ID_LENGTH() == 64
    assert guard.MAX_INSTRUMENT_LENGTH() == 32
