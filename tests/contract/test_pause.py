"""Pause and unpause: who may, which flags, and that each flag blocks exactly its own operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from ape import chain
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    CHALLENGE_PERIOD,
    DAY,
    EVIDENCE,
    OKX,
    PAID,
    PAUSE_ALL,
    PAUSE_CLAIMS,
    PAUSE_DEPOSITS,
    PAUSE_PAYOUTS,
    PAUSE_VERIFICATIONS,
    PAUSE_WITHDRAWALS,
    PENDING,
    REJECTED,
    USDT,
)

ALL_FLAGS = [PAUSE_CLAIMS, PAUSE_VERIFICATIONS, PAUSE_PAYOUTS, PAUSE_WITHDRAWALS, PAUSE_DEPOSITS]


# ---------------------------------------------------------------- who may pause / unpause


def test_pause__by_guardian__sets_flags_and_emits(guard, guardian):
    receipt = guard.pause(PAUSE_CLAIMS, sender=guardian)

    assert receipt.events == [guard.Paused(guardian, PAUSE_CLAIMS, PAUSE_CLAIMS)]
    assert guard.pausedFlags() == PAUSE_CLAIMS


def test_pause__by_governance__sets_flags_and_emits(guard, gov, signers):
    proposal_id = gov.propose(guard.pause, PAUSE_PAYOUTS | PAUSE_WITHDRAWALS)
    guard.confirm(proposal_id, sender=signers[1])

    receipt = guard.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Paused(guard, PAUSE_PAYOUTS | PAUSE_WITHDRAWALS, PAUSE_PAYOUTS | PAUSE_WITHDRAWALS),
    ]
    assert guard.pausedFlags() == PAUSE_PAYOUTS | PAUSE_WITHDRAWALS


def test_pause__flags_accumulate__event_reports_all_paused(guard, guardian):
    guard.pause(PAUSE_CLAIMS, sender=guardian)

    receipt = guard.pause(PAUSE_PAYOUTS, sender=guardian)

    assert receipt.events == [guard.Paused(guardian, PAUSE_PAYOUTS, PAUSE_CLAIMS | PAUSE_PAYOUTS)]
    assert guard.pausedFlags() == PAUSE_CLAIMS | PAUSE_PAYOUTS


def test_pause__already_paused_flag__is_idempotent(guard, guardian):
    guard.pause(PAUSE_CLAIMS, sender=guardian)

    receipt = guard.pause(PAUSE_CLAIMS, sender=guardian)

    assert receipt.events == [guard.Paused(guardian, PAUSE_CLAIMS, PAUSE_CLAIMS)]
    assert guard.pausedFlags() == PAUSE_CLAIMS


def test_pause__all_flags__sets_31(guard, guardian):
    receipt = guard.pause(PAUSE_ALL, sender=guardian)

    assert receipt.events == [guard.Paused(guardian, PAUSE_ALL, PAUSE_ALL)]
    assert guard.pausedFlags() == PAUSE_ALL == guard.PAUSE_ALL()


@pytest.mark.parametrize("who", ["stranger", "validator", "registrar", "signer", "trader"])
def test_pause__by_others__reverts_unauthorized(guard, stranger, validator, registrar, signers, trader, who):
    caller = {
        "stranger": stranger,
        "validator": validator,
        "registrar": registrar,
        "signer": signers[0],
        "trader": trader,
    }[who]

    with ape.reverts(guard.Unauthorized, account=caller):
        guard.pause(PAUSE_CLAIMS, sender=caller)

    assert guard.pausedFlags() == 0


def test_unpause__by_governance__clears_only_given_flags_and_emits(guard, gov, guardian, signers):
    guard.pause(PAUSE_CLAIMS | PAUSE_PAYOUTS | PAUSE_DEPOSITS, sender=guardian)
    proposal_id = gov.propose(guard.unpause, PAUSE_PAYOUTS | PAUSE_DEPOSITS)
    guard.confirm(proposal_id, sender=signers[1])

    receipt = guard.execute(proposal_id, sender=signers[0])

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Unpaused(guard, PAUSE_PAYOUTS | PAUSE_DEPOSITS, PAUSE_CLAIMS),
    ]
    assert guard.pausedFlags() == PAUSE_CLAIMS


def test_unpause__flag_not_paused__is_a_no_op(guard, gov, guardian):
    guard.pause(PAUSE_CLAIMS, sender=guardian)

    gov(guard.unpause, PAUSE_WITHDRAWALS)

    assert guard.pausedFlags() == PAUSE_CLAIMS


@pytest.mark.parametrize("who", ["guardian", "stranger", "signer"])
def test_unpause__direct_call__reverts_only_governance(guard, guardian, stranger, signers, who):
    caller = {"guardian": guardian, "stranger": stranger, "signer": signers[0]}[who]
    guard.pause(PAUSE_CLAIMS, sender=guardian)

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.unpause(PAUSE_CLAIMS, sender=caller)

    assert guard.pausedFlags() == PAUSE_CLAIMS


@pytest.mark.parametrize("flags", [0, 32, 33, 64, PAUSE_ALL | 128, 2**255, 2**256 - 1])
def test_pause__invalid_flags__reverts(guard, guardian, flags):
    with ape.reverts(guard.InvalidPauseFlags, flags=flags):
        guard.pause(flags, sender=guardian)

    assert guard.pausedFlags() == 0


@pytest.mark.parametrize("flags", [0, 32, 33, PAUSE_ALL | 256, 2**256 - 1])
def test_unpause__invalid_flags__reverts(guard, gov, guardian, flags):
    guard.pause(PAUSE_ALL, sender=guardian)

    with ape.reverts(guard.InvalidPauseFlags, flags=flags):
        gov(guard.unpause, flags)

    assert guard.pausedFlags() == PAUSE_ALL


# ---------------------------------------------------------------- each flag blocks exactly its operations


@pytest.fixture
def ready(insured, file_claim, validator, token, sponsor) -> dict[str, int]:
    """Two pending claims (for postVerification(s)) and two approved claims past their window (for
    executePayout(s)); the sponsor holds and has approved 1,000 USDT for another deposit."""
    claims = {
        "pending_single": file_claim(1_000 * USDT),
        "pending_batch": file_claim(1_000 * USDT),
        "payable_single": file_claim(1_000 * USDT),
        "payable_batch": file_claim(1_000 * USDT),
    }
    for name in ("payable_single", "payable_batch"):
        insured.postVerification(claims[name], True, 500 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    token.mint(sponsor, 1_000 * USDT, sender=sponsor)
    token.approve(insured, 1_000 * USDT, sender=sponsor)
    return claims


Operation = tuple[int, Callable[[], Any], Callable[[], bool]]


def operations(guard: Any, gov: Any, claims: dict[str, int], actors: dict[str, Any]) -> dict[str, Operation]:
    """name -> (the flag that blocks it, the call, a check that the call took effect)."""
    trader, validator, sponsor, stranger = (actors[k] for k in ("trader", "validator", "sponsor", "stranger"))
    single, batch = claims["pending_single"], claims["pending_batch"]
    return {
        "submitClaim": (
            PAUSE_CLAIMS,
            lambda: guard.submitClaim(OKX, "fresh-order", "ETH-USDT-SWAP", 100 * USDT, sender=trader),
            lambda: guard.claimIdByOrder(OKX, ACCOUNT_REF, "ETH-USDT-SWAP", "fresh-order") == 5,
        ),
        "postVerification": (
            PAUSE_VERIFICATIONS,
            lambda: guard.postVerification(single, True, 100 * USDT, EVIDENCE, 0, sender=validator),
            lambda: guard.getClaim(single).status == APPROVED,
        ),
        "postVerifications": (
            PAUSE_VERIFICATIONS,
            lambda: guard.postVerifications([(batch, True, 100 * USDT, EVIDENCE, 0)], sender=validator),
            lambda: guard.getClaim(batch).status == APPROVED,
        ),
        "executePayout": (
            PAUSE_PAYOUTS,
            lambda: guard.executePayout(claims["payable_single"], sender=stranger),
            lambda: guard.getClaim(claims["payable_single"]).status == PAID,
        ),
        "executePayouts": (
            PAUSE_PAYOUTS,
            lambda: guard.executePayouts([claims["payable_batch"]], sender=stranger),
            lambda: guard.getClaim(claims["payable_batch"]).status == PAID,
        ),
        "withdraw": (
            PAUSE_WITHDRAWALS,
            lambda: gov(guard.withdraw, stranger, 1_000 * USDT),
            lambda: guard.withdrawnToday() == 1_000 * USDT,
        ),
        "deposit": (
            PAUSE_DEPOSITS,
            lambda: guard.deposit(1_000 * USDT, sender=sponsor),
            lambda: actors["token"].balanceOf(sponsor) == 0,
        ),
    }


OPERATIONS = [
    "submitClaim",
    "postVerification",
    "postVerifications",
    "executePayout",
    "executePayouts",
    "withdraw",
    "deposit",
]
EXPECTED_BLOCKED = {
    PAUSE_CLAIMS: ["submitClaim"],
    PAUSE_VERIFICATIONS: ["postVerification", "postVerifications"],
    PAUSE_PAYOUTS: ["executePayout", "executePayouts"],
    PAUSE_WITHDRAWALS: ["withdraw"],
    PAUSE_DEPOSITS: ["deposit"],
}


@pytest.mark.parametrize("flag", ALL_FLAGS)
def test_pause__each_flag__blocks_exactly_its_operations(
    guard, gov, guardian, ready, token, trader, validator, sponsor, stranger, flag
):
    actors = {
        "trader": trader,
        "validator": validator,
        "sponsor": sponsor,
        "stranger": stranger,
        "token": token,
    }
    ops = operations(guard, gov, ready, actors)
    guard.pause(flag, sender=guardian)

    blocked = []
    for name in OPERATIONS:
        _, call, took_effect = ops[name]
        if name in EXPECTED_BLOCKED[flag]:
            with ape.reverts(guard.OperationPaused, flag=flag):
                call()
            assert not took_effect(), name
            blocked.append(name)
        else:
            call()
            assert took_effect(), name

    assert blocked == [name for name in OPERATIONS if ops[name][0] == flag]


def test_pause__all_flags__blocks_every_operation(
    guard, gov, guardian, ready, token, trader, validator, sponsor, stranger
):
    actors = {
        "trader": trader,
        "validator": validator,
        "sponsor": sponsor,
        "stranger": stranger,
        "token": token,
    }
    guard.pause(PAUSE_ALL, sender=guardian)

    for name, (flag, call, took_effect) in operations(guard, gov, ready, actors).items():
        with ape.reverts(guard.OperationPaused, flag=flag):
            call()
        assert not took_effect(), name


def test_unpause__resumes_the_operation(guard, gov, guardian, insured, trader):
    guard.pause(PAUSE_CLAIMS, sender=guardian)
    with ape.reverts(guard.OperationPaused, flag=PAUSE_CLAIMS):
        guard.submitClaim(OKX, "order-1", "BTC-USDT-SWAP", 100 * USDT, sender=trader)

    gov(guard.unpause, PAUSE_CLAIMS)
    guard.submitClaim(OKX, "order-1", "BTC-USDT-SWAP", 100 * USDT, sender=trader)

    assert guard.getClaim(1).status == PENDING


def test_pause__payouts__approved_claim_stays_payable_after_unpause(
    guard, gov, guardian, approved_claim, token, trader, stranger
):
    guard.pause(PAUSE_PAYOUTS, sender=guardian)
    chain.pending_timestamp += CHALLENGE_PERIOD
    with ape.reverts(guard.OperationPaused, flag=PAUSE_PAYOUTS):
        guard.executePayout(approved_claim, sender=stranger)

    gov(guard.unpause, PAUSE_PAYOUTS)
    guard.executePayout(approved_claim, sender=stranger)

    assert token.balanceOf(trader) == 800 * USDT
    assert guard.getClaim(approved_claim).status == PAID


def test_pause__all__guardian_can_still_veto_and_blacklist(guard, guardian, approved_claim, trader):
    guard.pause(PAUSE_ALL, sender=guardian)

    guard.vetoClaim(approved_claim, 100, sender=guardian)
    guard.addToBlacklist([trader], sender=guardian)

    assert guard.reservedAmount() == 0
    assert guard.isBlacklisted(trader)


def test_pause__all__claim_appeals_and_registry_still_work(
    guard, gov, guardian, registrar, file_claim, validator, trader, other_trader
):
    """Pause bits block the money paths only: batch vetoes, governance's cancel / reopen and the policy
    registry keep working (they move no tokens)."""
    a = file_claim(1_000 * USDT)
    b = file_claim(1_000 * USDT)
    guard.postVerification(a, True, 500 * USDT, EVIDENCE, 0, sender=validator)
    guard.postVerification(b, True, 400 * USDT, EVIDENCE, 0, sender=validator)
    guard.pause(PAUSE_ALL, sender=guardian)

    guard.vetoClaims([a], 100, sender=guardian)
    gov(guard.cancelApprovedClaim, b, 9)
    gov(guard.reopenClaim, a)
    end = guard.getPolicy(trader).coverageEnd
    guard.extendCoverage([trader], 20_000 * USDT, end + DAY, sender=registrar)
    guard.removeFromWhitelist([other_trader], sender=registrar)

    assert [guard.getClaim(i).status for i in (a, b)] == [PENDING, REJECTED]
    assert guard.reservedAmount() == 0
    assert guard.getPolicy(trader).coverageEnd == end + DAY
    assert not guard.isWhitelisted(other_trader)


def test_pause__all__governance_can_still_change_parameters(guard, gov, guardian):
    guard.pause(PAUSE_ALL, sender=guardian)

    gov.set_daily_payout_limit(1 * USDT)
    gov(guard.setChallengePeriod, 2 * CHALLENGE_PERIOD)

    assert guard.dailyPayoutLimit() == 1 * USDT
    assert guard.challengePeriod() == 2 * CHALLENGE_PERIOD
