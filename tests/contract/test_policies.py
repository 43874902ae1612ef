"""Policyholders: whitelist, blacklist, getPolicy and remainingCoverage."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape import chain
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    CHALLENGE_PERIOD,
    CLAIM_GRACE_PERIOD,
    COVERAGE_LIMIT,
    DAY,
    EVIDENCE,
    MAX_COVERAGE_LIMIT,
    OKX,
    PAID,
    PENDING,
    USDT,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
OTHER_REF = bytes.fromhex("cd" * 32)
REF_3 = bytes.fromhex("ef" * 32)
UINT96_MAX = 2**96 - 1
UINT40_MAX = 2**40 - 1


def addresses(count: int, start: int = 1) -> list[str]:
    """`count` distinct, non-zero addresses that are not test accounts."""
    return [f"0x{i:040x}" for i in range(0x1000 + start, 0x1000 + start + count)]


def refs(count: int) -> list[bytes]:
    return [(i + 1).to_bytes(32, "big") for i in range(count)]


@pytest.fixture
def end(chain: Any) -> int:
    return int(chain.pending_timestamp) + 30 * DAY


def actor(name: str, **accounts: Any) -> Any:
    return accounts[name]


# ---------------------------------------------------------------- addToWhitelist


def test_add_to_whitelist__by_registrar__stores_policies_and_emits(
    guard, registrar, trader, other_trader, end
):
    receipt = guard.addToWhitelist(
        [trader, other_trader], [ACCOUNT_REF, OTHER_REF], COVERAGE_LIMIT, end, sender=registrar
    )

    start = receipt.timestamp
    assert receipt.events == [
        guard.AccountRefBound(ACCOUNT_REF, trader),
        guard.Whitelisted(trader, ACCOUNT_REF, COVERAGE_LIMIT, start, end),
        guard.AccountRefBound(OTHER_REF, other_trader),
        guard.Whitelisted(other_trader, OTHER_REF, COVERAGE_LIMIT, start, end),
    ]
    assert guard.accountRefHolder(ACCOUNT_REF) == trader
    assert guard.accountRefHolder(OTHER_REF) == other_trader
    assert guard.getPolicy(trader) == (ACCOUNT_REF, COVERAGE_LIMIT, start, end, 0, True, False)
    assert guard.getPolicy(other_trader) == (OTHER_REF, COVERAGE_LIMIT, start, end, 0, True, False)
    assert guard.isWhitelisted(trader)
    assert guard.isWhitelisted(other_trader)
    assert guard.remainingCoverage(trader) == COVERAGE_LIMIT


def test_add_to_whitelist__coverage_start_is_block_time(guard, registrar, trader, end):
    at = int(chain.pending_timestamp) + 1_234
    chain.pending_timestamp = at

    receipt = guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    assert receipt.timestamp == at
    assert guard.Whitelisted.from_receipt(receipt) == [
        guard.Whitelisted(trader, ACCOUNT_REF, COVERAGE_LIMIT, at, end)
    ]
    assert guard.getPolicy(trader).coverageStart == at


def test_add_to_whitelist__by_governance__succeeds(guard, gov, signers, trader, end):
    proposal_id = gov.propose(guard.addToWhitelist, [trader], [ACCOUNT_REF], 500 * USDT, end)
    guard.confirm(proposal_id, sender=signers[1])

    receipt = guard.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.AccountRefBound(ACCOUNT_REF, trader),
        guard.Whitelisted(trader, ACCOUNT_REF, 500 * USDT, receipt.timestamp, end),
    ]
    assert guard.getPolicy(trader) == (ACCOUNT_REF, 500 * USDT, receipt.timestamp, end, 0, True, False)


@pytest.mark.parametrize("who", ["stranger", "validator", "guardian", "trader", "signer"])
def test_add_to_whitelist__by_others__reverts_unauthorized(
    guard, stranger, validator, guardian, trader, signers, end, who
):
    caller = actor(
        who, stranger=stranger, validator=validator, guardian=guardian, trader=trader, signer=signers[0]
    )

    with ape.reverts(guard.Unauthorized, account=caller):
        guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=caller)

    assert not guard.isWhitelisted(trader)


def test_add_to_whitelist__length_mismatch__reverts(guard, registrar, trader, other_trader, end):
    with ape.reverts(guard.LengthMismatch, expected=2, actual=1):
        guard.addToWhitelist([trader, other_trader], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    with ape.reverts(guard.LengthMismatch, expected=1, actual=2):
        guard.addToWhitelist([trader], [ACCOUNT_REF, OTHER_REF], COVERAGE_LIMIT, end, sender=registrar)


def test_add_to_whitelist__empty_batch__reverts(guard, registrar, end):
    with ape.reverts(guard.EmptyBatch):
        guard.addToWhitelist([], [], COVERAGE_LIMIT, end, sender=registrar)


def test_add_to_whitelist__201_users__reverts_batch_too_large(guard, registrar, end):
    with ape.reverts(guard.BatchTooLarge, length=201, max=200):
        guard.addToWhitelist(addresses(201), refs(201), COVERAGE_LIMIT, end, sender=registrar)


def test_add_to_whitelist__200_users__succeeds(guard, registrar, end):
    users = addresses(200)

    receipt = guard.addToWhitelist(users, refs(200), COVERAGE_LIMIT, end, sender=registrar)

    assert len(guard.Whitelisted.from_receipt(receipt)) == 200
    assert guard.isWhitelisted(users[0])
    assert guard.isWhitelisted(users[199])
    assert guard.getPolicy(users[199]).accountRef == (200).to_bytes(32, "big")


def test_add_to_whitelist__zero_coverage_limit__reverts(guard, registrar, trader, end):
    with ape.reverts(guard.ZeroAmount):
        guard.addToWhitelist([trader], [ACCOUNT_REF], 0, end, sender=registrar)


@pytest.mark.parametrize("limit", [MAX_COVERAGE_LIMIT + 1, UINT96_MAX + 1])
def test_add_to_whitelist__coverage_limit_above_max__reverts(guard, registrar, trader, end, limit):
    with ape.reverts(guard.CoverageLimitAboveMax, coverageLimit=limit, max=MAX_COVERAGE_LIMIT):
        guard.addToWhitelist([trader], [ACCOUNT_REF], limit, end, sender=registrar)

    assert not guard.isWhitelisted(trader)


def test_add_to_whitelist__coverage_limit_at_max__accepted(guard, registrar, trader, end):
    guard.addToWhitelist([trader], [ACCOUNT_REF], MAX_COVERAGE_LIMIT, end, sender=registrar)

    assert guard.getPolicy(trader).coverageLimit == MAX_COVERAGE_LIMIT


def test_add_to_whitelist__max_coverage_limit_zero__blocks_new_policies(guard, gov, registrar, trader, end):
    gov(guard.setMaxCoverageLimit, 0)

    with ape.reverts(guard.CoverageLimitAboveMax, coverageLimit=1, max=0):
        guard.addToWhitelist([trader], [ACCOUNT_REF], 1, end, sender=registrar)


def test_add_to_whitelist__max_lowered__existing_policy_unchanged(insured, gov, trader):
    gov(insured.setMaxCoverageLimit, 1 * USDT)

    assert insured.getPolicy(trader).coverageLimit == COVERAGE_LIMIT
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT


@pytest.mark.parametrize("offset", [-DAY, -1, 0])
def test_add_to_whitelist__coverage_end_not_in_future__reverts(guard, registrar, trader, offset):
    now = int(chain.pending_timestamp) + 100
    chain.pending_timestamp = now

    with ape.reverts(guard.InvalidCoverageEnd, coverageEnd=now + offset, currentTime=now):
        guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, now + offset, sender=registrar)


def test_add_to_whitelist__coverage_end_one_second_ahead__succeeds(guard, registrar, trader):
    now = int(chain.pending_timestamp) + 100
    chain.pending_timestamp = now

    guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, now + 1, sender=registrar)

    assert guard.getPolicy(trader).coverageEnd == now + 1


def test_add_to_whitelist__coverage_end_beyond_uint40__reverts(guard, registrar, trader):
    now = int(chain.pending_timestamp) + 100
    chain.pending_timestamp = now

    with ape.reverts(guard.InvalidCoverageEnd, coverageEnd=UINT40_MAX + 1, currentTime=now):
        guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, UINT40_MAX + 1, sender=registrar)


def test_add_to_whitelist__zero_address__reverts(guard, registrar, trader, end):
    with ape.reverts(guard.ZeroAddress):
        guard.addToWhitelist(
            [trader, ZERO_ADDRESS], [ACCOUNT_REF, OTHER_REF], COVERAGE_LIMIT, end, sender=registrar
        )

    assert not guard.isWhitelisted(trader)


def test_add_to_whitelist__zero_account_ref__reverts(guard, registrar, trader, other_trader, end):
    with ape.reverts(guard.ZeroAccountRef, user=other_trader):
        guard.addToWhitelist(
            [trader, other_trader], [ACCOUNT_REF, bytes(32)], COVERAGE_LIMIT, end, sender=registrar
        )

    assert not guard.isWhitelisted(trader)


def test_add_to_whitelist__already_whitelisted__reverts(insured, registrar, trader, end):
    with ape.reverts(insured.AlreadyWhitelisted, user=trader):
        insured.addToWhitelist([trader], [REF_3], COVERAGE_LIMIT, end, sender=registrar)

    assert insured.getPolicy(trader).accountRef == ACCOUNT_REF


def test_add_to_whitelist__same_user_twice_in_batch__reverts_whole_batch(guard, registrar, trader, end):
    with ape.reverts(guard.AlreadyWhitelisted, user=trader):
        guard.addToWhitelist(
            [trader, trader], [ACCOUNT_REF, OTHER_REF], COVERAGE_LIMIT, end, sender=registrar
        )

    assert not guard.isWhitelisted(trader)


def test_add_to_whitelist__blacklisted_user__reverts(guard, guardian, registrar, trader, end):
    guard.addToBlacklist([trader], sender=guardian)

    with ape.reverts(guard.UserBlacklisted, user=trader):
        guard.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    assert not guard.isWhitelisted(trader)


def test_get_policy__unknown_user__is_all_zero(guard, stranger):
    assert guard.getPolicy(stranger) == (bytes(32), 0, 0, 0, 0, False, False)
    assert not guard.isWhitelisted(stranger)
    assert not guard.isBlacklisted(stranger)
    assert guard.remainingCoverage(stranger) == 0


# ---------------------------------------------------------------- removeFromWhitelist


def test_remove_from_whitelist__by_registrar__ends_coverage_now_and_emits(insured, registrar, trader):
    policy_before = insured.getPolicy(trader)

    receipt = insured.removeFromWhitelist([trader], sender=registrar)

    now = receipt.timestamp
    assert receipt.events == [insured.RemovedFromWhitelist(trader, now)]
    assert not insured.isWhitelisted(trader)
    assert insured.getPolicy(trader) == (
        policy_before.accountRef,
        policy_before.coverageLimit,
        policy_before.coverageStart,
        now,
        0,
        False,
        False,
    )
    assert insured.accountRefHolder(ACCOUNT_REF) == trader


def test_remove_from_whitelist__claims_filed_until_grace_period_ends(insured, registrar, trader):
    removed_at = insured.removeFromWhitelist([trader], sender=registrar).timestamp
    deadline = removed_at + CLAIM_GRACE_PERIOD
    chain.pending_timestamp = deadline

    receipt = insured.submitClaim(OKX, "in-grace", "BTC-USDT-SWAP", 100 * USDT, sender=trader)

    assert receipt.timestamp == deadline
    assert insured.getClaim(receipt.return_value).status == PENDING
    chain.pending_timestamp = deadline + 1
    start = insured.getPolicy(trader).coverageStart
    with ape.reverts(insured.OutsideCoverage, user=trader, coverageStart=start, claimDeadline=deadline):
        insured.submitClaim(OKX, "after-grace", "BTC-USDT-SWAP", 100 * USDT, sender=trader)


def test_remove_from_whitelist__after_coverage_end__keeps_the_earlier_end(
    insured, registrar, trader, coverage_end
):
    chain.pending_timestamp = coverage_end + DAY

    receipt = insured.removeFromWhitelist([trader], sender=registrar)

    assert receipt.events == [insured.RemovedFromWhitelist(trader, coverage_end)]
    assert insured.getPolicy(trader).coverageEnd == coverage_end


def test_remove_from_whitelist__by_governance__succeeds(insured, gov, signers, trader, other_trader):
    proposal_id = gov.propose(insured.removeFromWhitelist, [trader, other_trader])
    insured.confirm(proposal_id, sender=signers[1])

    receipt = insured.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        insured.ProposalExecuted(proposal_id, signers[0]),
        insured.RemovedFromWhitelist(trader, receipt.timestamp),
        insured.RemovedFromWhitelist(other_trader, receipt.timestamp),
    ]
    assert not insured.isWhitelisted(trader)
    assert not insured.isWhitelisted(other_trader)


@pytest.mark.parametrize("who", ["stranger", "validator", "guardian"])
def test_remove_from_whitelist__by_others__reverts_unauthorized(
    insured, stranger, validator, guardian, trader, who
):
    caller = actor(who, stranger=stranger, validator=validator, guardian=guardian)

    with ape.reverts(insured.Unauthorized, account=caller):
        insured.removeFromWhitelist([trader], sender=caller)

    assert insured.isWhitelisted(trader)


def test_remove_from_whitelist__not_whitelisted__reverts_whole_batch(insured, registrar, trader, stranger):
    with ape.reverts(insured.NotWhitelisted, user=stranger):
        insured.removeFromWhitelist([trader, stranger], sender=registrar)

    assert insured.isWhitelisted(trader)


def test_remove_from_whitelist__twice__reverts(insured, registrar, trader):
    insured.removeFromWhitelist([trader], sender=registrar)

    with ape.reverts(insured.NotWhitelisted, user=trader):
        insured.removeFromWhitelist([trader], sender=registrar)


def test_remove_from_whitelist__empty_or_too_large_batch__reverts(insured, registrar):
    with ape.reverts(insured.EmptyBatch):
        insured.removeFromWhitelist([], sender=registrar)
    with ape.reverts(insured.BatchTooLarge, length=201, max=200):
        insured.removeFromWhitelist(addresses(201), sender=registrar)


def test_remove_from_whitelist__filed_claims_still_proceed(
    insured, file_claim, registrar, validator, trader, token, stranger
):
    pending = file_claim(1_000 * USDT)
    approved = file_claim(2_000 * USDT)
    insured.postVerification(approved, True, 2_000 * USDT, EVIDENCE, 0, sender=validator)

    insured.removeFromWhitelist([trader], sender=registrar)
    insured.postVerification(pending, True, 700 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayouts([approved, pending], sender=stranger)

    assert insured.getClaim(pending).status == PAID
    assert insured.getClaim(approved).status == PAID
    assert token.balanceOf(trader) == 2_700 * USDT
    assert insured.getPolicy(trader).used == 2_700 * USDT


def test_add_to_whitelist__re_registered_trader__used_carries_over(
    insured, file_claim, registrar, validator, trader, stranger, end
):
    """A new term starts the dates afresh; what the trader used (paid + reserved) carries over, so the
    coverage limit is the trader's limit over all terms."""
    paid = file_claim(1_000 * USDT)
    insured.postVerification(paid, True, 1_000 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(paid, sender=stranger)
    reserved = file_claim(300 * USDT)
    insured.postVerification(reserved, True, 300 * USDT, EVIDENCE, 0, sender=validator)
    insured.removeFromWhitelist([trader], sender=registrar)

    receipt = insured.addToWhitelist([trader], [REF_3], 5_000 * USDT, end + DAY, sender=registrar)

    assert receipt.events == [
        insured.AccountRefBound(REF_3, trader),
        insured.Whitelisted(trader, REF_3, 5_000 * USDT, receipt.timestamp, end + DAY),
    ]
    assert insured.getPolicy(trader) == (
        REF_3,
        5_000 * USDT,
        receipt.timestamp,
        end + DAY,
        1_300 * USDT,
        True,
        False,
    )
    assert insured.remainingCoverage(trader) == 3_700 * USDT
    assert insured.getClaim(reserved).status == APPROVED
    # The previous account hash is released; the new one is bound.
    assert insured.accountRefHolder(ACCOUNT_REF) == ZERO_ADDRESS
    assert insured.accountRefHolder(REF_3) == trader


def test_add_to_whitelist__re_registered_below_used__reverts_coverage_limit_below_used(
    insured, file_claim, registrar, validator, trader, end
):
    claim_id = file_claim(1_000 * USDT)
    insured.postVerification(claim_id, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    insured.removeFromWhitelist([trader], sender=registrar)

    with ape.reverts(insured.CoverageLimitBelowUsed, coverageLimit=500 * USDT, used=800 * USDT):
        insured.addToWhitelist([trader], [ACCOUNT_REF], 500 * USDT, end, sender=registrar)

    insured.addToWhitelist([trader], [ACCOUNT_REF], 800 * USDT, end, sender=registrar)
    assert insured.getPolicy(trader).used == 800 * USDT
    assert insured.remainingCoverage(trader) == 0
    with ape.reverts(insured.ClaimExceedsCoverage, claimedLoss=1, remainingCoverage=0):
        insured.submitClaim(OKX, "another", "BTC-USDT-SWAP", 1, sender=trader)


def test_add_to_whitelist__same_ref_again__no_rebinding_event(insured, registrar, trader, end):
    insured.removeFromWhitelist([trader], sender=registrar)

    receipt = insured.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    assert receipt.events == [
        insured.Whitelisted(trader, ACCOUNT_REF, COVERAGE_LIMIT, receipt.timestamp, end)
    ]
    assert insured.accountRefHolder(ACCOUNT_REF) == trader


def test_add_to_whitelist__coverage_expired_without_removal__new_term_allowed(
    insured, registrar, trader, coverage_end
):
    """A trader whose coverage ended (not removed) has no coverage in force: a new term may start."""
    chain.pending_timestamp = coverage_end + 1
    new_end = coverage_end + 30 * DAY

    receipt = insured.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, new_end, sender=registrar)

    assert insured.getPolicy(trader) == (
        ACCOUNT_REF,
        COVERAGE_LIMIT,
        receipt.timestamp,
        new_end,
        0,
        True,
        False,
    )


# ---------------------------------------------------------------- accountRef binding


def test_account_ref__held_by_trader_in_force__reverts_account_ref_in_use(
    insured, registrar, trader, stranger, end
):
    with ape.reverts(insured.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader):
        insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    assert insured.accountRefHolder(ACCOUNT_REF) == trader
    assert not insured.isWhitelisted(stranger)


def test_account_ref__holder_removed_but_in_grace__still_in_use(insured, registrar, trader, stranger, end):
    removed_at = insured.removeFromWhitelist([trader], sender=registrar).timestamp
    chain.pending_timestamp = removed_at + CLAIM_GRACE_PERIOD

    with ape.reverts(insured.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader):
        insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, end + 30 * DAY, sender=registrar)


def test_account_ref__released_after_holder_window_closes__binds_new_trader(
    insured, registrar, trader, stranger, end
):
    removed_at = insured.removeFromWhitelist([trader], sender=registrar).timestamp
    chain.pending_timestamp = removed_at + CLAIM_GRACE_PERIOD + 1
    new_end = end + 30 * DAY

    receipt = insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, new_end, sender=registrar)

    assert receipt.events == [
        insured.AccountRefBound(ACCOUNT_REF, stranger),
        insured.Whitelisted(stranger, ACCOUNT_REF, COVERAGE_LIMIT, receipt.timestamp, new_end),
    ]
    assert insured.accountRefHolder(ACCOUNT_REF) == stranger
    # The hash moved: the old holder's policy no longer names it, so it has nothing to file under.
    assert insured.getPolicy(trader).accountRef == bytes(32)
    with ape.reverts(insured.NotWhitelisted, user=trader):
        insured.submitClaim(OKX, "old-holder", "BTC-USDT-SWAP", 1 * USDT, sender=trader)
    insured.submitClaim(OKX, "new-holder", "BTC-USDT-SWAP", 1 * USDT, sender=stranger)


def test_account_ref__holder_moved_to_new_ref__old_ref_free_at_once(
    insured, registrar, trader, stranger, coverage_end
):
    """Once the holder's policy names another ref, the old ref no longer lets it file: free to bind."""
    chain.pending_timestamp = coverage_end + 1
    insured.addToWhitelist([trader], [REF_3], COVERAGE_LIMIT, coverage_end + 30 * DAY, sender=registrar)
    assert insured.accountRefHolder(ACCOUNT_REF) == ZERO_ADDRESS

    insured.addToWhitelist(
        [stranger], [ACCOUNT_REF], COVERAGE_LIMIT, coverage_end + 30 * DAY, sender=registrar
    )

    assert insured.accountRefHolder(ACCOUNT_REF) == stranger
    assert insured.accountRefHolder(REF_3) == trader


def test_account_ref__taken_over__old_holder_rebinds_on_a_new_ref(
    insured, registrar, trader, stranger, coverage_end
):
    """After the holder's window closed its ref went to another trader; the old holder starts a new term on
    a new ref, which is then bound to it (and refused to anyone else)."""
    chain.pending_timestamp = coverage_end + CLAIM_GRACE_PERIOD + 1
    later = coverage_end + 60 * DAY
    insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, later, sender=registrar)
    insured.addToWhitelist([trader], [REF_3], COVERAGE_LIMIT, later, sender=registrar)

    assert insured.accountRefHolder(ACCOUNT_REF) == stranger
    assert insured.accountRefHolder(REF_3) == trader
    with ape.reverts(insured.AccountRefInUse, accountRef=REF_3, holder=trader):
        insured.addToWhitelist(addresses(1), [REF_3], COVERAGE_LIMIT, later, sender=registrar)


def test_account_ref__same_ref_twice_in_batch__reverts_whole_batch(
    guard, registrar, trader, other_trader, end
):
    with ape.reverts(guard.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader):
        guard.addToWhitelist(
            [trader, other_trader], [ACCOUNT_REF, ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar
        )

    assert guard.accountRefHolder(ACCOUNT_REF) == ZERO_ADDRESS


def test_account_ref_holder__unknown__zero_address(guard):
    assert guard.accountRefHolder(REF_3) == ZERO_ADDRESS


# ---------------------------------------------------------------- extendCoverage


def test_extend_coverage__by_registrar__renews_in_place_and_emits(
    insured, file_claim, validator, registrar, trader, other_trader, coverage_end
):
    claim_id = file_claim(1_000 * USDT)
    insured.postVerification(claim_id, True, 600 * USDT, EVIDENCE, 0, sender=validator)
    before = insured.getPolicy(trader)
    new_end = coverage_end + 30 * DAY

    receipt = insured.extendCoverage([trader, other_trader], 20_000 * USDT, new_end, sender=registrar)

    assert receipt.events == [
        insured.CoverageExtended(trader, 20_000 * USDT, new_end),
        insured.CoverageExtended(other_trader, 20_000 * USDT, new_end),
    ]
    assert insured.getPolicy(trader) == (
        ACCOUNT_REF,
        20_000 * USDT,
        before.coverageStart,
        new_end,
        600 * USDT,
        True,
        False,
    )
    assert insured.remainingCoverage(trader) == 20_000 * USDT - 600 * USDT
    assert insured.getClaim(claim_id).status == APPROVED


def test_extend_coverage__same_end_lower_limit__accepted(insured, registrar, trader, coverage_end):
    insured.extendCoverage([trader], 1 * USDT, coverage_end, sender=registrar)

    assert insured.getPolicy(trader).coverageLimit == 1 * USDT
    assert insured.getPolicy(trader).coverageEnd == coverage_end


def test_extend_coverage__by_governance__succeeds(insured, gov, signers, trader, coverage_end):
    receipt = gov(insured.extendCoverage, [trader], COVERAGE_LIMIT, coverage_end + DAY)

    assert receipt.events == [
        insured.ProposalExecuted(insured.proposalCount(), signers[0]),
        insured.CoverageExtended(trader, COVERAGE_LIMIT, coverage_end + DAY),
    ]


@pytest.mark.parametrize("who", ["stranger", "validator", "guardian", "trader"])
def test_extend_coverage__by_others__reverts_unauthorized(
    insured, stranger, validator, guardian, trader, coverage_end, who
):
    caller = actor(who, stranger=stranger, validator=validator, guardian=guardian, trader=trader)

    with ape.reverts(insured.Unauthorized, account=caller):
        insured.extendCoverage([trader], COVERAGE_LIMIT, coverage_end + DAY, sender=caller)


def test_extend_coverage__end_earlier__reverts_coverage_end_not_later(
    insured, registrar, trader, coverage_end
):
    with ape.reverts(insured.CoverageEndNotLater, coverageEnd=coverage_end - 1, currentEnd=coverage_end):
        insured.extendCoverage([trader], COVERAGE_LIMIT, coverage_end - 1, sender=registrar)


def test_extend_coverage__below_used__reverts(
    insured, file_claim, validator, registrar, trader, coverage_end
):
    claim_id = file_claim(1_000 * USDT)
    insured.postVerification(claim_id, True, 600 * USDT, EVIDENCE, 0, sender=validator)

    with ape.reverts(insured.CoverageLimitBelowUsed, coverageLimit=600 * USDT - 1, used=600 * USDT):
        insured.extendCoverage([trader], 600 * USDT - 1, coverage_end + DAY, sender=registrar)

    insured.extendCoverage([trader], 600 * USDT, coverage_end + DAY, sender=registrar)
    assert insured.remainingCoverage(trader) == 0


def test_extend_coverage__above_max__reverts(insured, registrar, trader, coverage_end):
    with ape.reverts(
        insured.CoverageLimitAboveMax, coverageLimit=MAX_COVERAGE_LIMIT + 1, max=MAX_COVERAGE_LIMIT
    ):
        insured.extendCoverage([trader], MAX_COVERAGE_LIMIT + 1, coverage_end + DAY, sender=registrar)


def test_extend_coverage__zero_limit__reverts(insured, registrar, trader, coverage_end):
    with ape.reverts(insured.ZeroAmount):
        insured.extendCoverage([trader], 0, coverage_end + DAY, sender=registrar)


@pytest.mark.parametrize("end_kind", ["past", "beyond_uint40"])
def test_extend_coverage__invalid_end__reverts(insured, registrar, trader, end_kind):
    now = int(chain.pending_timestamp) + 100
    chain.pending_timestamp = now
    new_end = now - 1 if end_kind == "past" else UINT40_MAX + 1

    with ape.reverts(insured.InvalidCoverageEnd, coverageEnd=new_end, currentTime=now):
        insured.extendCoverage([trader], COVERAGE_LIMIT, new_end, sender=registrar)


@pytest.mark.parametrize("state", ["never_whitelisted", "removed", "expired"])
def test_extend_coverage__no_coverage_in_force__reverts_not_whitelisted(
    insured, registrar, trader, stranger, coverage_end, state
):
    user = stranger if state == "never_whitelisted" else trader
    if state == "removed":
        insured.removeFromWhitelist([trader], sender=registrar)
    elif state == "expired":
        chain.pending_timestamp = coverage_end + 1

    with ape.reverts(insured.NotWhitelisted, user=user):
        insured.extendCoverage([user], COVERAGE_LIMIT, coverage_end + 60 * DAY, sender=registrar)


def test_extend_coverage__at_coverage_end__still_in_force(insured, registrar, trader, coverage_end):
    chain.pending_timestamp = coverage_end

    insured.extendCoverage([trader], COVERAGE_LIMIT, coverage_end + DAY, sender=registrar)

    assert insured.getPolicy(trader).coverageEnd == coverage_end + DAY


def test_extend_coverage__blacklisted__reverts(insured, guardian, registrar, trader, coverage_end):
    insured.addToBlacklist([trader], sender=guardian)

    with ape.reverts(insured.UserBlacklisted, user=trader):
        insured.extendCoverage([trader], COVERAGE_LIMIT, coverage_end + DAY, sender=registrar)


def test_extend_coverage__empty_or_too_large_batch__reverts(insured, registrar, coverage_end):
    with ape.reverts(insured.EmptyBatch):
        insured.extendCoverage([], COVERAGE_LIMIT, coverage_end + DAY, sender=registrar)
    with ape.reverts(insured.BatchTooLarge, length=201, max=200):
        insured.extendCoverage(addresses(201), COVERAGE_LIMIT, coverage_end + DAY, sender=registrar)


def test_extend_coverage__one_bad_user__reverts_whole_batch(
    insured, registrar, trader, stranger, coverage_end
):
    with ape.reverts(insured.NotWhitelisted, user=stranger):
        insured.extendCoverage([trader, stranger], COVERAGE_LIMIT, coverage_end + DAY, sender=registrar)

    assert insured.getPolicy(trader).coverageEnd == coverage_end


# ---------------------------------------------------------------- addToBlacklist / removeFromBlacklist


@pytest.mark.parametrize("who", ["guardian", "registrar"])
def test_add_to_blacklist__by_role__flags_users_and_emits(
    insured, guardian, registrar, trader, stranger, who
):
    caller = actor(who, guardian=guardian, registrar=registrar)

    receipt = insured.addToBlacklist([trader, stranger], sender=caller)

    assert receipt.events == [insured.Blacklisted(trader, caller), insured.Blacklisted(stranger, caller)]
    assert insured.isBlacklisted(trader)
    assert insured.isBlacklisted(stranger)
    # Blacklisting does not remove the whitelist entry.
    assert insured.isWhitelisted(trader)


def test_add_to_blacklist__by_governance__emits_with_guard_as_by(guard, gov, signers, trader):
    proposal_id = gov.propose(guard.addToBlacklist, [trader])
    guard.confirm(proposal_id, sender=signers[1])

    receipt = guard.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Blacklisted(trader, guard),
    ]
    assert guard.isBlacklisted(trader)


@pytest.mark.parametrize("who", ["stranger", "validator", "trader", "signer"])
def test_add_to_blacklist__by_others__reverts_unauthorized(
    guard, stranger, validator, trader, other_trader, signers, who
):
    caller = actor(who, stranger=stranger, validator=validator, trader=trader, signer=signers[0])

    with ape.reverts(guard.Unauthorized, account=caller):
        guard.addToBlacklist([other_trader], sender=caller)

    assert not guard.isBlacklisted(other_trader)


def test_add_to_blacklist__already_blacklisted__reverts_whole_batch(guard, guardian, trader, other_trader):
    guard.addToBlacklist([trader], sender=guardian)

    with ape.reverts(guard.AlreadyBlacklisted, user=trader):
        guard.addToBlacklist([other_trader, trader], sender=guardian)

    assert not guard.isBlacklisted(other_trader)


def test_add_to_blacklist__zero_address__reverts(guard, guardian):
    with ape.reverts(guard.ZeroAddress):
        guard.addToBlacklist([ZERO_ADDRESS], sender=guardian)


def test_add_to_blacklist__empty_or_too_large_batch__reverts(guard, guardian):
    with ape.reverts(guard.EmptyBatch):
        guard.addToBlacklist([], sender=guardian)
    with ape.reverts(guard.BatchTooLarge, length=201, max=200):
        guard.addToBlacklist(addresses(201), sender=guardian)


def test_remove_from_blacklist__by_governance__clears_flag_and_emits(insured, gov, guardian, signers, trader):
    insured.addToBlacklist([trader], sender=guardian)
    proposal_id = gov.propose(insured.removeFromBlacklist, [trader])
    insured.confirm(proposal_id, sender=signers[1])

    receipt = insured.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        insured.ProposalExecuted(proposal_id, signers[0]),
        insured.RemovedFromBlacklist(trader),
    ]
    assert not insured.isBlacklisted(trader)
    insured.submitClaim(OKX, "after-unblock", "BTC-USDT-SWAP", 100 * USDT, sender=trader)
    assert insured.claimIdByOrder(OKX, ACCOUNT_REF, "BTC-USDT-SWAP", "after-unblock") == 1


@pytest.mark.parametrize("who", ["guardian", "registrar", "stranger"])
def test_remove_from_blacklist__direct_call__reverts_only_governance(
    guard, guardian, registrar, stranger, trader, who
):
    caller = actor(who, guardian=guardian, registrar=registrar, stranger=stranger)
    guard.addToBlacklist([trader], sender=guardian)

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.removeFromBlacklist([trader], sender=caller)

    assert guard.isBlacklisted(trader)


def test_remove_from_blacklist__not_blacklisted__reverts(guard, gov, guardian, trader, other_trader):
    guard.addToBlacklist([trader], sender=guardian)

    with ape.reverts(guard.NotBlacklisted, user=other_trader):
        gov(guard.removeFromBlacklist, [trader, other_trader])

    assert guard.isBlacklisted(trader)


def test_remove_from_blacklist__empty_batch__reverts(guard, gov):
    with ape.reverts(guard.EmptyBatch):
        gov(guard.removeFromBlacklist, [])


# ---------------------------------------------------------------- remainingCoverage


def test_remaining_coverage__follows_reservations_payouts_and_vetoes(
    insured, file_claim, validator, guardian, trader, stranger
):
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT

    first = file_claim(1_000 * USDT)
    second = file_claim(2_000 * USDT)
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT  # pending claims reserve nothing

    insured.postVerification(first, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    insured.postVerification(second, True, 2_000 * USDT, EVIDENCE, 0, sender=validator)
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 2_800 * USDT
    assert insured.getPolicy(trader).used == 2_800 * USDT

    insured.vetoClaim(second, 100, sender=guardian)
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 800 * USDT

    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.executePayout(first, sender=stranger)
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 800 * USDT
    assert insured.getPolicy(trader).used == 800 * USDT
