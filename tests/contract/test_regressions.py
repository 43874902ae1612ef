"""Regression tests for contract bugs found by the assurance suite, named after the property they broke."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    BINANCE,
    CHALLENGE_PERIOD,
    COVERAGE_LIMIT,
    DAILY_APPROVAL_LIMIT,
    DAY,
    EVIDENCE,
    MAX_COVERAGE_LIMIT,
    OKX,
    PENDING,
    POOL_FUNDS,
    REJECTED,
    USDT,
)

from operator_toolkit.deployment import deploy_implementation

# ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
MAX_PERIOD = 30 * 86_400


def test_LIM_3__withdraw_limit_lowered_below_withdrawn_today__reverts_daily_limit_with_zero_remaining(  # noqa: N802
    guard: Any, gov: Any, stranger: Any
) -> None:
    """Was: `withdraw` computed `limit - used` unchecked and panicked (0x11) once governance lowered the
    daily limit below what had been withdrawn that day."""
    gov(guard.withdraw, stranger, 15_000 * USDT)
    gov(guard.setDailyWithdrawalLimit, 10_000 * USDT)

    with ape.reverts(guard.DailyLimitExceeded, requested=1, remaining=0):
        gov(guard.withdraw, stranger, 1)

    assert guard.withdrawnToday() == 15_000 * USDT


def test_SOLV_2__proposal_to_the_pool_asset__is_refused(  # noqa: N802
    guard: Any, signers: list[Any], token: Any, approved_claim: int
) -> None:
    """Was: a proposal could call `asset.transfer` / `asset.approve` from the pool, moving reserved funds
    past `withdraw`'s free-balance check and daily limit and breaking totalAssets() >= reservedAmount()."""
    for data in (
        token.transfer.encode_input(signers[2], guard.totalAssets()),
        token.approve.encode_input(signers[2], guard.totalAssets()),
    ):
        with ape.reverts(guard.InvalidProposalTarget, target=token.address):
            guard.propose(token, 0, data, sender=signers[0])

    assert guard.proposalCount() == 9  # the fixture's setup proposals only
    assert guard.totalAssets() >= guard.reservedAmount() == 800 * USDT


# ====================================================================================================
# LeverageGuard 1.1: the attacks of issue 10, each performed against the pool and shown blocked. Every
# docstring says what 1.0.0 did with the same calls (checked once against the 1.0.0 artifact).
# ====================================================================================================

INSTRUMENT = "BTC-USDT-SWAP"
OTHER_REF = bytes.fromhex("cd" * 32)
VETO = 100
THIRTY_DAYS = 30 * DAY
EXECUTION_DELAY = 2 * DAY


def _payable_at(guard: Any, claim_id: int) -> int:
    return int(guard.getClaim(claim_id).payableAt)


def _schedule(guard: Any, signers: list[Any], call: Any, *args: Any) -> tuple[int, int]:
    """Proposes (signer 0) and confirms (signer 1) a call; returns (proposal id, readyAt)."""
    proposal_id = int(guard.propose(guard, 0, call.encode_input(*args), sender=signers[0]).return_value)
    receipt = guard.confirm(proposal_id, sender=signers[1])
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    assert receipt.events.filter(guard.ProposalScheduled) == [guard.ProposalScheduled(proposal_id, ready_at)]
    return proposal_id, ready_at


# ------------------------------------------------------------------ 1. order-id squatting


def test_CLAIM_4__order_id_squatting__victim_still_files_own_order(  # noqa: N802
    insured: Any, trader: Any, other_trader: Any, validator: Any
) -> None:
    """1.0.0: the key was (exchange, orderId) for everyone. The squatter's claim (loss 1, rejected by the
    keeper) took the victim's order id and the victim's `submitClaim` reverted DuplicateClaim(1) forever."""
    squat = int(insured.submitClaim(OKX, "victim-42", INSTRUMENT, 1, sender=other_trader).return_value)
    insured.postVerification(squat, False, 0, EVIDENCE, 7, sender=validator)

    receipt = insured.submitClaim(OKX, "victim-42", INSTRUMENT, 1_000 * USDT, sender=trader)

    assert receipt.return_value == 2
    assert receipt.events == [
        insured.LiquidationClaimed(2, trader, OKX, ACCOUNT_REF, "victim-42", INSTRUMENT, 1_000 * USDT)
    ]
    assert insured.claimIdByOrder(OKX, OTHER_REF, INSTRUMENT, "victim-42") == squat
    assert insured.claimIdByOrder(OKX, ACCOUNT_REF, INSTRUMENT, "victim-42") == 2
    with ape.reverts(insured.DuplicateClaim, existingClaimId=2):
        insured.submitClaim(OKX, "victim-42", INSTRUMENT, 1, sender=trader)


def test_POL_2__squatter_whitelisted_with_victims_account_ref__reverts_account_ref_in_use(  # noqa: N802
    insured: Any, registrar: Any, trader: Any, stranger: Any, coverage_end: int
) -> None:
    """1.0.0: any number of addresses could be whitelisted with the same accountRef (nothing bound it)."""
    assert insured.accountRefHolder(ACCOUNT_REF) == trader.address

    with ape.reverts(insured.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader.address):
        insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, coverage_end, sender=registrar)

    assert insured.getPolicy(stranger).accountRef == bytes(32)


def test_POL_2__removed_holders_ref__bound_until_its_grace_period_ends(  # noqa: N802
    insured: Any, registrar: Any, trader: Any, stranger: Any, chain: Any
) -> None:
    receipt = insured.removeFromWhitelist([trader], sender=registrar)
    deadline = receipt.timestamp + insured.claimGracePeriod()
    end = deadline + THIRTY_DAYS
    chain.pending_timestamp = deadline
    with ape.reverts(insured.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader.address):
        insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)
    chain.pending_timestamp = deadline + 1

    receipt = insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)

    assert receipt.events.filter(insured.AccountRefBound) == [insured.AccountRefBound(ACCOUNT_REF, stranger)]
    assert insured.accountRefHolder(ACCOUNT_REF) == stranger.address


def test_POL_2__grace_period_raised_after_rebind__old_holder_cannot_squat_new_holders_orders(  # noqa: N802
    insured: Any, gov: Any, registrar: Any, trader: Any, stranger: Any, chain: Any
) -> None:
    """The ref moved to `stranger` once `trader`'s claim deadline passed; governance then raised the grace
    period (at most 90 days), which would put `trader` back inside its window with the same ref. Rebinding
    cleared the ref from `trader`'s policy, so `trader` has no policy to file under (NotWhitelisted)."""
    receipt = insured.removeFromWhitelist([trader], sender=registrar)
    deadline = receipt.timestamp + insured.claimGracePeriod()
    chain.pending_timestamp = deadline + 1
    end = deadline + THIRTY_DAYS
    insured.addToWhitelist([stranger], [ACCOUNT_REF], COVERAGE_LIMIT, end, sender=registrar)
    gov(insured.setClaimGracePeriod, 90 * DAY)
    assert insured.accountRefHolder(ACCOUNT_REF) == stranger.address

    assert insured.getPolicy(trader).accountRef == bytes(32)
    with ape.reverts(insured.NotWhitelisted, user=trader.address):
        insured.submitClaim(OKX, "stranger-order-1", INSTRUMENT, 1, sender=trader)

    insured.submitClaim(OKX, "stranger-order-1", INSTRUMENT, 1_000 * USDT, sender=stranger)


def test_CLAIM_4__same_order_id_under_another_instrument__is_a_different_claim(  # noqa: N802
    insured: Any, trader: Any
) -> None:
    """Binance order ids are unique per symbol only. 1.0.0: the second instrument's order reverted
    DuplicateClaim(1)."""
    first = insured.submitClaim(BINANCE, "8389765", "BTCUSDT", 100 * USDT, sender=trader)
    second = insured.submitClaim(BINANCE, "8389765", "ETHUSDT", 100 * USDT, sender=trader)

    assert (first.return_value, second.return_value) == (1, 2)
    assert insured.claimIdByOrder(BINANCE, ACCOUNT_REF, "BTCUSDT", "8389765") == 1
    assert insured.claimIdByOrder(BINANCE, ACCOUNT_REF, "ETHUSDT", "8389765") == 2


@pytest.mark.parametrize(
    "instrument",
    [
        "btc-usdt-swap",
        "BTC-USDT-swap",
        "BTC USDT",
        "BTC/USDT",
        " BTC-USDT",
        "BTC-USDT\x00",
        "",
        "A" * 33,
        "BTC·USDT",
    ],
)
def test_CLAIM_4__odd_instrument_spelling__reverts_invalid_instrument(  # noqa: N802
    insured: Any, trader: Any, instrument: str
) -> None:
    """1.0.0 accepted any instrument of 1-32 bytes ("btc-usdt-swap" next to "BTC-USDT-SWAP"), so one order
    had several spellings."""
    with ape.reverts(insured.InvalidInstrument, instrument=instrument):
        insured.submitClaim(OKX, "order-1", instrument, 1 * USDT, sender=trader)


@pytest.mark.parametrize(
    "order_id", ["", " 123", "123 ", "12.3", "12/3", "a" * 65, "\uff11\uff12\uff13", "123\n"]
)
def test_CLAIM_4__odd_order_id_spelling__reverts_invalid_order_id(  # noqa: N802
    insured: Any, trader: Any, order_id: str
) -> None:
    """1.0.0 accepted "123 " next to "123": two claims for one order."""
    with ape.reverts(insured.InvalidOrderId, orderId=order_id):
        insured.submitClaim(OKX, order_id, INSTRUMENT, 1 * USDT, sender=trader)


def test_CLAIM_4__longest_valid_spellings__accepted(insured: Any, trader: Any) -> None:  # noqa: N802
    order_id, instrument = "aZ09-_" + "x" * 58, "A" * 31 + "_"
    receipt = insured.submitClaim(OKX, order_id, instrument, 1 * USDT, sender=trader)

    assert insured.claimIdByOrder(OKX, ACCOUNT_REF, instrument, order_id) == receipt.return_value == 1


# ------------------------------------------------------------------ 3. stuck approvals


def test_CLAIM_7__trader_blacklisted_after_window__cancel_approved_claim_releases_reservation(  # noqa: N802
    guard: Any, gov: Any, approved_claim: int, guardian: Any, trader: Any, chain: Any, stranger: Any
) -> None:
    """1.0.0: the claim could be neither paid (UserBlacklisted), vetoed (window over) nor released, so its
    800 USDT stayed reserved for good."""
    payable_at = _payable_at(guard, approved_claim)
    chain.pending_timestamp = payable_at
    guard.addToBlacklist([trader], sender=guardian)
    with ape.reverts(guard.UserBlacklisted, user=trader.address):
        guard.executePayout(approved_claim, sender=stranger)
    with ape.reverts(guard.ChallengePeriodOver, claimId=approved_claim, endedAt=payable_at):
        guard.vetoClaim(approved_claim, VETO, sender=guardian)
    free_before = guard.freeBalance()

    receipt = gov(guard.cancelApprovedClaim, approved_claim, 9)

    assert receipt.events.filter(guard.ClaimCancelled) == [
        guard.ClaimCancelled(approved_claim, trader, 800 * USDT, 9)
    ]
    claim = guard.getClaim(approved_claim)
    assert (claim.status, claim.payout, claim.reasonCode, claim.payableAt) == (REJECTED, 0, 9, 0)
    assert guard.reservedAmount() == 0
    assert guard.getPolicy(trader).used == 0
    assert guard.freeBalance() == free_before + 800 * USDT == POOL_FUNDS


def test_CLAIM_1__cancelled_claim__reopened_by_governance_and_decided_again(  # noqa: N802
    guard: Any, gov: Any, approved_claim: int, validator: Any, trader: Any
) -> None:
    """The only backward step: Rejected -> Pending by governance (1.0.0: Rejected was final)."""
    gov(guard.cancelApprovedClaim, approved_claim, 9)

    receipt = gov(guard.reopenClaim, approved_claim)

    assert receipt.events.filter(guard.ClaimReopened) == [guard.ClaimReopened(approved_claim, trader)]
    claim = guard.getClaim(approved_claim)
    assert (claim.status, claim.decidedAt, claim.reasonCode) == (PENDING, 0, 0)
    guard.postVerification(approved_claim, True, 600 * USDT, EVIDENCE, 0, sender=validator)
    assert guard.getClaim(approved_claim).status == APPROVED
    assert guard.reservedAmount() == guard.getPolicy(trader).used == 600 * USDT


def test_LIM_5__max_payout_above_daily_payout_limit__both_setters_revert(guard: Any, gov: Any) -> None:  # noqa: N802
    """1.0.0: maxPayoutPerClaim could exceed dailyPayoutLimit, and an approval above the daily limit could
    never be paid (DailyPayoutLimitExceeded every day) nor released."""
    daily, max_payout = guard.dailyPayoutLimit(), guard.maxPayoutPerClaim()
    with ape.reverts(
        guard.MaxPayoutAboveDailyPayoutLimit, maxPayoutPerClaim=daily + 1, dailyPayoutLimit=daily
    ):
        gov(guard.setMaxPayoutPerClaim, daily + 1)
    with ape.reverts(
        guard.MaxPayoutAboveDailyPayoutLimit, maxPayoutPerClaim=max_payout, dailyPayoutLimit=max_payout - 1
    ):
        gov(guard.setDailyPayoutLimit, max_payout - 1)
    assert (guard.dailyPayoutLimit(), guard.maxPayoutPerClaim()) == (daily, max_payout)

    gov(guard.setMaxPayoutPerClaim, daily)
    gov(guard.setDailyPayoutLimit, daily)
    assert guard.maxPayoutPerClaim() == guard.dailyPayoutLimit() == daily


# ------------------------------------------------------------------ 4. governance without delay


@pytest.fixture
def delayed(guard: Any, gov: Any) -> Any:
    gov(guard.setExecutionDelay, EXECUTION_DELAY)
    return guard


def _raid(guard: Any, claim_id: int, to: Any) -> list[bytes]:
    """One multicall: reopen the veto window, veto the approval, lift the withdrawal limit, withdraw all."""
    total = int(guard.totalAssets())
    return [
        guard.setChallengePeriod.encode_input(THIRTY_DAYS),
        guard.vetoClaim.encode_input(claim_id, 0),
        guard.setDailyWithdrawalLimit.encode_input(total),
        guard.withdraw.encode_input(to, total),
    ]


def test_GOV_DELAY_1__raid_multicall__not_executable_before_ready_at_and_guardian_cancels(  # noqa: N802
    delayed: Any, signers: list[Any], guardian: Any, approved_claim: int, stranger: Any, token: Any
) -> None:
    """1.0.0: the multicall executed in the block its threshold was reached: the approval was vetoed and
    the whole pool withdrawn to the attacker's address."""
    guard = delayed
    proposal_id, ready_at = _schedule(guard, signers, guard.multicall, _raid(guard, approved_claim, stranger))

    with ape.reverts(guard.ProposalNotReady, proposalId=proposal_id, readyAt=ready_at):
        guard.execute(proposal_id, sender=signers[0])
    receipt = guard.cancel(proposal_id, sender=guardian)

    assert receipt.events == [guard.ProposalCancelled(proposal_id, guardian)]
    with ape.reverts(guard.ProposalAlreadyCancelled, proposalId=proposal_id):
        guard.execute(proposal_id, sender=signers[0])
    assert guard.getClaim(approved_claim).status == APPROVED
    assert guard.totalAssets() == POOL_FUNDS
    assert token.balanceOf(stranger) == 0


def test_GOV_DELAY_1__raid_multicall__after_delay_veto_fails_challenge_period_over(  # noqa: N802
    delayed: Any, signers: list[Any], approved_claim: int, stranger: Any, chain: Any, token: Any
) -> None:
    """Left uncancelled, the raid still fails: the delay outlasts the approval's window, and raising the
    challenge period does not reopen it, so the vetoClaim inside reverts the whole multicall."""
    guard = delayed
    payable_at = _payable_at(guard, approved_claim)
    proposal_id, ready_at = _schedule(guard, signers, guard.multicall, _raid(guard, approved_claim, stranger))
    chain.pending_timestamp = ready_at

    with ape.reverts(guard.ChallengePeriodOver, claimId=approved_claim, endedAt=payable_at):
        guard.execute(proposal_id, sender=signers[0])

    assert guard.challengePeriod() == CHALLENGE_PERIOD
    assert guard.totalAssets() == POOL_FUNDS
    assert token.balanceOf(stranger) == 0


def test_GOV_DELAY_1__guardian_cancel__only_during_the_delay(  # noqa: N802
    delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    guard = delayed
    unscheduled = int(
        guard.propose(guard, 0, guard.setDailyWithdrawalLimit.encode_input(1), sender=signers[0]).return_value
    )
    with ape.reverts(guard.NotInDelay, proposalId=unscheduled, readyAt=0):
        guard.cancel(unscheduled, sender=guardian)
    proposal_id, ready_at = _schedule(guard, signers, guard.setDailyWithdrawalLimit, 1)
    chain.pending_timestamp = ready_at

    with ape.reverts(guard.NotInDelay, proposalId=proposal_id, readyAt=ready_at):
        guard.cancel(proposal_id, sender=guardian)


def test_CLAIM_5__challenge_period_raised__does_not_reopen_closed_window(  # noqa: N802
    guard: Any,
    gov: Any,
    approved_claim: int,
    guardian: Any,
    trader: Any,
    chain: Any,
    stranger: Any,
    token: Any,
) -> None:
    """1.0.0: the window was decidedAt + the *current* challengePeriod, so raising it reopened the veto
    window of every approval whose window had closed, and the veto succeeded."""
    payable_at = _payable_at(guard, approved_claim)
    chain.pending_timestamp = payable_at
    gov(guard.setChallengePeriod, THIRTY_DAYS)

    with ape.reverts(guard.ChallengePeriodOver, claimId=approved_claim, endedAt=payable_at):
        guard.vetoClaim(approved_claim, VETO, sender=guardian)
    with ape.reverts(guard.ChallengePeriodOver, claimId=approved_claim, endedAt=payable_at):
        gov(
            guard.multicall,
            [
                guard.setChallengePeriod.encode_input(MAX_PERIOD),
                guard.vetoClaim.encode_input(approved_claim, 0),
            ],
        )

    assert _payable_at(guard, approved_claim) == payable_at
    guard.executePayout(approved_claim, sender=stranger)
    assert token.balanceOf(trader) == 800 * USDT


def test_GOV_DELAY_2__upgrade_to_and_call__waits_out_the_delay(  # noqa: N802
    project: Any, delayed: Any, signers: list[Any], deployer: Any, chain: Any
) -> None:
    """1.0.0: upgradeToAndCall took effect in the block its proposal reached the threshold."""
    guard = delayed
    implementation, _ = deploy_implementation(project, deployer)
    proposal_id, ready_at = _schedule(guard, signers, guard.upgradeToAndCall, implementation, b"")
    chain.pending_timestamp = ready_at - 1

    with ape.reverts(guard.ProposalNotReady, proposalId=proposal_id, readyAt=ready_at):
        guard.execute(proposal_id, sender=signers[0])
    assert _implementation(chain, guard) != implementation.address.lower()

    chain.pending_timestamp = ready_at
    receipt = guard.execute(proposal_id, sender=signers[0])

    assert [log.implementation for log in receipt.events if log.event_name == "Upgraded"] == [
        implementation.address
    ]
    assert _implementation(chain, guard) == implementation.address.lower()


def test_GOV_DELAY_3__proposal_revoking_rogue_guardian__cannot_be_cancelled_by_it(  # noqa: N802
    delayed: Any, signers: list[Any], guardian: Any, stranger: Any, chain: Any
) -> None:
    """The guardian's cancel power (new in 1.1) cannot protect a rogue guardian from removal."""
    guard = delayed
    role = guard.GUARDIAN_ROLE()
    single, ready_at = _schedule(guard, signers, guard.revokeRole, role, guardian)
    batch, _ = _schedule(
        guard,
        signers,
        guard.multicall,
        [guard.revokeRole.encode_input(role, guardian), guard.revokeRole.encode_input(role, stranger)],
    )
    mixed, _ = _schedule(
        guard,
        signers,
        guard.multicall,
        [guard.revokeRole.encode_input(role, guardian), guard.setDailyWithdrawalLimit.encode_input(1)],
    )

    for proposal_id in (single, batch):
        with ape.reverts(guard.GuardianRemovalNotCancellable, proposalId=proposal_id):
            guard.cancel(proposal_id, sender=guardian)
    guard.cancel(mixed, sender=guardian)  # anything more than guardian removals stays cancellable

    chain.pending_timestamp = ready_at
    guard.execute(single, sender=signers[0])
    assert not guard.hasRole(role, guardian)


# ------------------------------------------------------------------ 5. compromised validator


def test_LIM_4__approvals_over_daily_approval_limit__revert_until_next_utc_day(  # noqa: N802
    guard: Any, gov: Any, file_claim: Any, validator: Any, chain: Any
) -> None:
    """1.0.0 had no approval limit: a stolen validator key could reserve the whole free balance at once."""
    gov(guard.setDailyApprovalLimit, 2_000 * USDT)
    first, second = file_claim(1_500 * USDT), file_claim(1_000 * USDT)
    guard.postVerification(first, True, 1_500 * USDT, EVIDENCE, 0, sender=validator)
    assert guard.approvedToday() == 1_500 * USDT

    with ape.reverts(guard.DailyApprovalLimitExceeded, requested=800 * USDT, remaining=500 * USDT):
        guard.postVerification(second, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    with ape.reverts(guard.DailyApprovalLimitExceeded, requested=800 * USDT, remaining=500 * USDT):
        guard.postVerifications([(second, True, 800 * USDT, EVIDENCE, 0)], sender=validator)
    assert guard.getClaim(second).status == PENDING
    assert guard.reservedAmount() == 1_500 * USDT

    chain.pending_timestamp = (int(chain.pending_timestamp) // DAY + 1) * DAY
    guard.postVerification(second, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    assert guard.approvedToday() == 800 * USDT


def test_LIM_4__default_configuration__one_days_approvals_capped_at_daily_approval_limit(  # noqa: N802
    guard: Any, registrar: Any, validator: Any, accounts: Any, chain: Any, coverage_end: int
) -> None:
    """With the fixtures' limits (5,000 per claim, 10,000 per policy) a compromised validator approving
    every claim it can gets DAILY_APPROVAL_LIMIT reserved, and not one unit more."""
    traders = [accounts.generate_test_account() for _ in range(7)]
    for t in traders:
        chain.provider.set_balance(t.address, 10**20)
    refs = [bytes([0x10 + i]) * 32 for i in range(len(traders))]
    guard.addToWhitelist(traders, refs, COVERAGE_LIMIT, coverage_end, sender=registrar)
    claims = [
        int(guard.submitClaim(OKX, f"bad-{i}-{j}", INSTRUMENT, 5_000 * USDT, sender=t).return_value)
        for i, t in enumerate(traders)
        for j in range(2)
    ]
    fits = DAILY_APPROVAL_LIMIT // (5_000 * USDT)
    guard.postVerifications([(c, True, 5_000 * USDT, EVIDENCE, 0) for c in claims[:fits]], sender=validator)

    with ape.reverts(guard.DailyApprovalLimitExceeded, requested=5_000 * USDT, remaining=0):
        guard.postVerification(claims[fits], True, 5_000 * USDT, EVIDENCE, 0, sender=validator)
    assert guard.reservedAmount() == guard.approvedToday() == DAILY_APPROVAL_LIMIT


@pytest.mark.parametrize("period", [0, 1, CHALLENGE_PERIOD - 1])
def test_LIM_4__challenge_period_below_minimum__reverts(guard: Any, gov: Any, period: int) -> None:  # noqa: N802
    """1.0.0: setChallengePeriod(0) made a validator's approval payable in the same block."""
    with ape.reverts(
        guard.InvalidChallengePeriod,
        period=period,
        min=guard.MIN_CHALLENGE_PERIOD(),
        max=guard.MAX_CHALLENGE_PERIOD(),
    ):
        gov(guard.setChallengePeriod, period)
    assert guard.challengePeriod() == CHALLENGE_PERIOD == guard.MIN_CHALLENGE_PERIOD()


def test_LIM_4__guardian_vetoes_a_batch_of_bad_approvals(  # noqa: N802
    guard: Any, file_claim: Any, validator: Any, guardian: Any, trader: Any, other_trader: Any, chain: Any
) -> None:
    """1.0.0 had only the single vetoClaim: one transaction per bad approval, racing the windows."""
    late = file_claim(500 * USDT)
    guard.postVerification(late, True, 500 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    a, b = file_claim(1_000 * USDT), file_claim(1_000 * USDT, by=other_trader)
    pending = file_claim(100 * USDT)
    guard.postVerifications(
        [(a, True, 1_000 * USDT, EVIDENCE, 0), (b, True, 900 * USDT, EVIDENCE, 0)], sender=validator
    )

    receipt = guard.vetoClaims([a, pending, b, late], VETO, sender=guardian)

    assert receipt.events == [
        guard.ClaimVetoed(a, guardian, trader, 1_000 * USDT, VETO),
        guard.VetoSkipped(pending, guard.SKIP_WRONG_STATUS()),
        guard.ClaimVetoed(b, guardian, other_trader, 900 * USDT, VETO),
        guard.VetoSkipped(late, guard.SKIP_CHALLENGE_WINDOW_OVER()),
    ]
    assert [guard.getClaim(c).status for c in (a, b, pending, late)] == [
        REJECTED,
        REJECTED,
        PENDING,
        APPROVED,
    ]
    assert guard.reservedAmount() == 500 * USDT
    assert (guard.getPolicy(trader).used, guard.getPolicy(other_trader).used) == (500 * USDT, 0)


# ------------------------------------------------------------------ 6. renewal rewrite


def test_POL_3__extend_coverage__keeps_coverage_start_and_used(  # noqa: N802
    insured: Any, approved_claim: int, registrar: Any, trader: Any, coverage_end: int
) -> None:
    """1.0.0: renewing meant remove + re-add, which reset coverageStart and paidOut (the reservation of the
    approved claim was then judged against a fresh term)."""
    before = insured.getPolicy(trader)
    new_end = coverage_end + THIRTY_DAYS

    receipt = insured.extendCoverage([trader], 20_000 * USDT, new_end, sender=registrar)

    assert receipt.events == [insured.CoverageExtended(trader, 20_000 * USDT, new_end)]
    assert tuple(insured.getPolicy(trader)) == (
        ACCOUNT_REF,
        20_000 * USDT,
        before.coverageStart,
        new_end,
        800 * USDT,
        True,
        False,
    )


def test_POL_3__extend_coverage__bad_terms__revert(  # noqa: N802
    insured: Any, approved_claim: int, registrar: Any, trader: Any, coverage_end: int
) -> None:
    with ape.reverts(insured.CoverageEndNotLater, coverageEnd=coverage_end - 1, currentEnd=coverage_end):
        insured.extendCoverage([trader], COVERAGE_LIMIT, coverage_end - 1, sender=registrar)
    with ape.reverts(insured.CoverageLimitBelowUsed, coverageLimit=800 * USDT - 1, used=800 * USDT):
        insured.extendCoverage([trader], 800 * USDT - 1, coverage_end, sender=registrar)
    with ape.reverts(
        insured.CoverageLimitAboveMax, coverageLimit=MAX_COVERAGE_LIMIT + 1, max=MAX_COVERAGE_LIMIT
    ):
        insured.extendCoverage([trader], MAX_COVERAGE_LIMIT + 1, coverage_end, sender=registrar)
    assert insured.getPolicy(trader).coverageLimit == COVERAGE_LIMIT


def test_POL_3__remove_then_re_add__keeps_used(  # noqa: N802
    insured: Any,
    approved_claim: int,
    registrar: Any,
    trader: Any,
    chain: Any,
    stranger: Any,
    coverage_end: int,
) -> None:
    """1.0.0: re-adding reset paidOut to 0, so a trader paid the full limit could be paid it again."""
    chain.pending_timestamp = _payable_at(insured, approved_claim)
    insured.executePayout(approved_claim, sender=stranger)
    insured.removeFromWhitelist([trader], sender=registrar)
    with ape.reverts(insured.CoverageLimitBelowUsed, coverageLimit=500 * USDT, used=800 * USDT):
        insured.addToWhitelist([trader], [ACCOUNT_REF], 500 * USDT, coverage_end, sender=registrar)

    receipt = insured.addToWhitelist([trader], [ACCOUNT_REF], COVERAGE_LIMIT, coverage_end, sender=registrar)

    policy = insured.getPolicy(trader)
    assert (policy.coverageStart, policy.used) == (receipt.timestamp, 800 * USDT)
    assert insured.remainingCoverage(trader) == COVERAGE_LIMIT - 800 * USDT
    with ape.reverts(
        insured.ClaimExceedsCoverage,
        claimedLoss=COVERAGE_LIMIT,
        remainingCoverage=COVERAGE_LIMIT - 800 * USDT,
    ):
        insured.submitClaim(OKX, "again-1", INSTRUMENT, COVERAGE_LIMIT, sender=trader)


def test_POL_3__removed_trader__files_inside_grace_window_and_not_after(  # noqa: N802
    insured: Any, registrar: Any, trader: Any, chain: Any
) -> None:
    """1.0.0: removeFromWhitelist dropped coverage at once: a liquidation inside the term could no longer
    be claimed (NotWhitelisted)."""
    start = insured.getPolicy(trader).coverageStart
    receipt = insured.removeFromWhitelist([trader], sender=registrar)
    assert receipt.events == [insured.RemovedFromWhitelist(trader, receipt.timestamp)]
    deadline = receipt.timestamp + insured.claimGracePeriod()
    chain.pending_timestamp = deadline

    filed = insured.submitClaim(OKX, "late-1", INSTRUMENT, 100 * USDT, sender=trader)

    assert filed.return_value == 1
    chain.pending_timestamp = deadline + 1
    with ape.reverts(
        insured.OutsideCoverage, user=trader.address, coverageStart=start, claimDeadline=deadline
    ):
        insured.submitClaim(OKX, "late-2", INSTRUMENT, 100 * USDT, sender=trader)


def _implementation(chain: Any, proxy: Any) -> str:
    raw = bytes(chain.provider.get_storage(proxy.address, IMPLEMENTATION_SLOT))
    return "0x" + raw[-20:].hex()
