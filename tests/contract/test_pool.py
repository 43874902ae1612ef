"""Pool: deposit, withdraw (governance only, free balance only, daily limit per UTC day), views, rescue."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape import chain
from support.pool import (
    CHALLENGE_PERIOD,
    CLAIM_GRACE_PERIOD,
    DAILY_APPROVAL_LIMIT,
    DAILY_PAYOUT_LIMIT,
    DAILY_WITHDRAWAL_LIMIT,
    DAY,
    MAX_COVERAGE_LIMIT,
    MAX_PAYOUT_PER_CLAIM,
    POOL_FUNDS,
    USDT,
)


def run_gov(gov: Any, call: Any, *args: Any, at: int | None = None) -> tuple[int, Any]:
    """Runs `call` as governance; with `at`, the execute transaction is mined at that block time.
    Returns (proposal id, execute receipt)."""
    proposal_id = gov.propose(call, *args)
    gov.guard.confirm(proposal_id, sender=gov.signers[1])
    if at is not None:
        chain.pending_timestamp = at
    receipt = gov.guard.execute(proposal_id, sender=gov.signers[0])
    if at is not None:
        assert receipt.timestamp == at
    return proposal_id, receipt


def next_day_start() -> int:
    return (int(chain.pending_timestamp) // DAY + 1) * DAY


def fund(token: Any, guard: Any, account: Any, amount: int) -> None:
    token.mint(account, amount, sender=account)
    token.approve(guard, amount, sender=account)


# ---------------------------------------------------------------- deposit


def test_deposit__pulls_tokens_and_emits_deposited(guard, token, stranger):
    fund(token, guard, stranger, 500 * USDT)

    receipt = guard.deposit(500 * USDT, sender=stranger)

    assert receipt.events == [
        guard.Deposited(stranger, 500 * USDT),
        token.Transfer(stranger, guard, 500 * USDT),
    ]
    assert token.balanceOf(stranger) == 0
    assert token.balanceOf(guard) == POOL_FUNDS + 500 * USDT
    assert guard.totalAssets() == POOL_FUNDS + 500 * USDT
    assert guard.freeBalance() == POOL_FUNDS + 500 * USDT
    assert guard.reservedAmount() == 0


def test_deposit__partial_allowance__pulls_only_the_amount(guard, token, stranger):
    fund(token, guard, stranger, 500 * USDT)

    guard.deposit(200 * USDT, sender=stranger)

    assert token.balanceOf(stranger) == 300 * USDT
    assert token.allowance(stranger, guard) == 300 * USDT
    assert guard.totalAssets() == POOL_FUNDS + 200 * USDT


def test_deposit__zero__reverts(guard, token, stranger):
    fund(token, guard, stranger, 500 * USDT)

    with ape.reverts(guard.ZeroAmount):
        guard.deposit(0, sender=stranger)


def test_deposit__without_allowance__reverts(guard, token, stranger):
    token.mint(stranger, 500 * USDT, sender=stranger)

    with ape.reverts(token.ERC20InsufficientAllowance, spender=guard, allowance=0, needed=500 * USDT):
        guard.deposit(500 * USDT, sender=stranger)

    assert token.balanceOf(stranger) == 500 * USDT
    assert guard.totalAssets() == POOL_FUNDS


def test_deposit__allowance_too_small__reverts(guard, token, stranger):
    token.mint(stranger, 500 * USDT, sender=stranger)
    token.approve(guard, 499 * USDT, sender=stranger)

    with ape.reverts(
        token.ERC20InsufficientAllowance, spender=guard, allowance=499 * USDT, needed=500 * USDT
    ):
        guard.deposit(500 * USDT, sender=stranger)


def test_deposit__balance_too_small__reverts(guard, token, stranger):
    token.mint(stranger, 100 * USDT, sender=stranger)
    token.approve(guard, 500 * USDT, sender=stranger)

    with ape.reverts(token.ERC20InsufficientBalance, sender=stranger, balance=100 * USDT, needed=500 * USDT):
        guard.deposit(500 * USDT, sender=stranger)


# ---------------------------------------------------------------- withdraw


def test_withdraw__by_governance__transfers_and_emits_withdrawn(guard, gov, token, signers, stranger):
    proposal_id, receipt = run_gov(gov, guard.withdraw, stranger, 5_000 * USDT)

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Withdrawn(stranger, 5_000 * USDT, 5_000 * USDT),
        token.Transfer(guard, stranger, 5_000 * USDT),
    ]
    assert token.balanceOf(stranger) == 5_000 * USDT
    assert token.balanceOf(guard) == POOL_FUNDS - 5_000 * USDT
    assert guard.totalAssets() == POOL_FUNDS - 5_000 * USDT
    assert guard.withdrawnToday() == 5_000 * USDT


@pytest.mark.parametrize("who", ["signer", "guardian", "sponsor", "stranger"])
def test_withdraw__direct_call__reverts_only_governance(guard, signers, guardian, sponsor, stranger, who):
    caller = {"signer": signers[0], "guardian": guardian, "sponsor": sponsor, "stranger": stranger}[who]

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.withdraw(caller, 1 * USDT, sender=caller)


def test_withdraw__to_zero_address__reverts(guard, gov):
    with ape.reverts(guard.ZeroAddress):
        gov(guard.withdraw, "0x0000000000000000000000000000000000000000", 1 * USDT)


def test_withdraw__zero_amount__reverts(guard, gov, stranger):
    with ape.reverts(guard.ZeroAmount):
        gov(guard.withdraw, stranger, 0)


def test_withdraw__more_than_free_balance__reverts(guard, gov, stranger, approved_claim):
    assert guard.freeBalance() == POOL_FUNDS - 800 * USDT

    with ape.reverts(
        guard.InsufficientFreeBalance, needed=POOL_FUNDS - 799 * USDT, free=POOL_FUNDS - 800 * USDT
    ):
        gov(guard.withdraw, stranger, POOL_FUNDS - 799 * USDT)


def test_withdraw__reserved_funds__cannot_be_withdrawn(guard, gov, token, stranger, approved_claim):
    gov(guard.setDailyWithdrawalLimit, POOL_FUNDS)
    gov(guard.withdraw, stranger, POOL_FUNDS - 800 * USDT)
    assert guard.freeBalance() == 0
    assert guard.totalAssets() == 800 * USDT

    with ape.reverts(guard.InsufficientFreeBalance, needed=1, free=0):
        gov(guard.withdraw, stranger, 1)

    assert token.balanceOf(stranger) == POOL_FUNDS - 800 * USDT
    assert guard.reservedAmount() == 800 * USDT


def test_withdraw__whole_daily_limit_at_once__succeeds(guard, gov, stranger):
    gov(guard.withdraw, stranger, DAILY_WITHDRAWAL_LIMIT)

    assert guard.withdrawnToday() == DAILY_WITHDRAWAL_LIMIT


def test_withdraw__over_daily_limit__reverts(guard, gov, stranger):
    with ape.reverts(guard.DailyLimitExceeded, requested=30_000 * USDT, remaining=20_000 * USDT):
        gov(guard.withdraw, stranger, 30_000 * USDT)

    assert guard.withdrawnToday() == 0


def test_withdraw__several_withdrawals__summed_against_daily_limit(
    guard, gov, token, signers, stranger, sponsor
):
    start = next_day_start() + 60
    run_gov(gov, guard.withdraw, stranger, 12_000 * USDT, at=start)
    assert guard.withdrawnToday() == 12_000 * USDT

    with ape.reverts(guard.DailyLimitExceeded, requested=8_001 * USDT, remaining=8_000 * USDT):
        gov(guard.withdraw, sponsor, 8_001 * USDT)

    proposal_id, second = run_gov(gov, guard.withdraw, sponsor, 8_000 * USDT)
    assert second.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Withdrawn(sponsor, 8_000 * USDT, 20_000 * USDT),
        token.Transfer(guard, sponsor, 8_000 * USDT),
    ]
    assert guard.withdrawnToday() == 20_000 * USDT

    with ape.reverts(guard.DailyLimitExceeded, requested=1, remaining=0):
        gov(guard.withdraw, stranger, 1)

    assert token.balanceOf(stranger) == 12_000 * USDT
    assert guard.totalAssets() == POOL_FUNDS - 20_000 * USDT


def test_withdraw__limit_zero__reverts(guard, gov, stranger):
    gov(guard.setDailyWithdrawalLimit, 0)

    with ape.reverts(guard.DailyLimitExceeded, requested=1, remaining=0):
        gov(guard.withdraw, stranger, 1)


def test_withdraw__day_rollover__at_utc_day_boundary(guard, gov, token, signers, stranger):
    day_start = next_day_start()
    boundary = day_start + DAY
    run_gov(gov, guard.withdraw, stranger, 15_000 * USDT, at=day_start + 60)
    run_gov(gov, guard.withdraw, stranger, 5_000 * USDT, at=boundary - 10)

    # One second before midnight UTC the day's limit is used up.
    with ape.reverts(guard.DailyLimitExceeded, requested=1, remaining=0):
        run_gov(gov, guard.withdraw, stranger, 1, at=boundary - 1)
    chain.mine(timestamp=boundary - 1)
    assert chain.blocks.head.timestamp == boundary - 1
    assert guard.withdrawnToday() == 20_000 * USDT

    # At midnight a new window starts.
    chain.mine(timestamp=boundary)
    assert guard.withdrawnToday() == 0
    proposal_id, receipt = run_gov(gov, guard.withdraw, stranger, 20_000 * USDT, at=boundary + 1)
    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.Withdrawn(stranger, 20_000 * USDT, 20_000 * USDT),
        token.Transfer(guard, stranger, 20_000 * USDT),
    ]
    assert guard.withdrawnToday() == 20_000 * USDT
    assert token.balanceOf(stranger) == 40_000 * USDT


def test_withdraw__exactly_at_midnight__counts_for_the_new_day(guard, gov, stranger):
    day_start = next_day_start()
    run_gov(gov, guard.withdraw, stranger, 20_000 * USDT, at=day_start + 60)

    run_gov(gov, guard.withdraw, stranger, 20_000 * USDT, at=day_start + DAY)

    assert guard.withdrawnToday() == 20_000 * USDT


def test_withdraw__window_never_used__withdrawn_today_is_zero(guard):
    assert guard.withdrawnToday() == 0


# ---------------------------------------------------------------- views


def test_views__after_deposit__report_the_pool(guard, token):
    assert guard.asset() == token.address
    assert guard.totalAssets() == POOL_FUNDS
    assert guard.reservedAmount() == 0
    assert guard.freeBalance() == POOL_FUNDS


def test_views__approval__reserves_without_moving_tokens(guard, approved_claim, token):
    assert guard.totalAssets() == POOL_FUNDS
    assert token.balanceOf(guard) == POOL_FUNDS
    assert guard.reservedAmount() == 800 * USDT
    assert guard.freeBalance() == POOL_FUNDS - 800 * USDT


def test_views__payout__reduces_total_and_reserved(guard, approved_claim, stranger):
    chain.pending_timestamp = guard.getClaim(approved_claim).payableAt
    guard.executePayout(approved_claim, sender=stranger)

    assert guard.totalAssets() == POOL_FUNDS - 800 * USDT
    assert guard.reservedAmount() == 0
    assert guard.freeBalance() == POOL_FUNDS - 800 * USDT


def test_views__tokens_sent_directly__count_as_free(guard, token, stranger):
    token.mint(guard, 7 * USDT, sender=stranger)

    assert guard.totalAssets() == POOL_FUNDS + 7 * USDT
    assert guard.freeBalance() == POOL_FUNDS + 7 * USDT


def test_views__configured_limits__read_back(guard):
    assert guard.dailyWithdrawalLimit() == DAILY_WITHDRAWAL_LIMIT
    assert guard.dailyPayoutLimit() == DAILY_PAYOUT_LIMIT
    assert guard.maxPayoutPerClaim() == MAX_PAYOUT_PER_CLAIM
    assert guard.dailyApprovalLimit() == DAILY_APPROVAL_LIMIT
    assert guard.maxCoverageLimit() == MAX_COVERAGE_LIMIT
    assert guard.challengePeriod() == CHALLENGE_PERIOD
    assert guard.claimGracePeriod() == CLAIM_GRACE_PERIOD
    assert guard.executionDelay() == 0
    assert guard.approvedToday() == 0


# ---------------------------------------------------------------- rescueToken


@pytest.fixture
def stray(project, deployer, guard, stranger):
    """A second TestUSDT, 50 units of which were sent to the pool by mistake."""
    stray_token = deployer.deploy(project.TestUSDT)
    stray_token.mint(guard, 50 * USDT, sender=stranger)
    return stray_token


def test_rescue_token__by_governance__returns_the_stray_token(guard, gov, token, stray, signers, stranger):
    proposal_id, receipt = run_gov(gov, guard.rescueToken, stray, stranger, 30 * USDT)

    assert receipt.events == [
        guard.ProposalExecuted(proposal_id, signers[0]),
        guard.TokenRescued(stray, stranger, 30 * USDT),
        stray.Transfer(guard, stranger, 30 * USDT),
    ]
    assert stray.balanceOf(stranger) == 30 * USDT
    assert stray.balanceOf(guard) == 20 * USDT
    assert guard.totalAssets() == POOL_FUNDS
    assert token.balanceOf(guard) == POOL_FUNDS


def test_rescue_token__pool_asset__reverts(guard, gov, token, stranger):
    with ape.reverts(guard.CannotRescueAsset, token=token):
        gov(guard.rescueToken, token, stranger, 1 * USDT)

    assert guard.totalAssets() == POOL_FUNDS


@pytest.mark.parametrize("who", ["signer", "guardian", "stranger"])
def test_rescue_token__direct_call__reverts_only_governance(guard, stray, signers, guardian, stranger, who):
    caller = {"signer": signers[0], "guardian": guardian, "stranger": stranger}[who]

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.rescueToken(stray, caller, 1 * USDT, sender=caller)


def test_rescue_token__to_zero_address__reverts(guard, gov, stray):
    with ape.reverts(guard.ZeroAddress):
        gov(guard.rescueToken, stray, "0x0000000000000000000000000000000000000000", 1 * USDT)


def test_rescue_token__zero_amount__reverts(guard, gov, stray, stranger):
    with ape.reverts(guard.ZeroAmount):
        gov(guard.rescueToken, stray, stranger, 0)


def test_rescue_token__more_than_held__reverts_in_token(guard, gov, stray, stranger):
    with ape.reverts(stray.ERC20InsufficientBalance, sender=guard, balance=50 * USDT, needed=51 * USDT):
        gov(guard.rescueToken, stray, stranger, 51 * USDT)


def test_rescue_token__not_limited_by_daily_withdrawal_limit(guard, gov, project, deployer, stranger):
    big = deployer.deploy(project.TestUSDT)
    big.mint(guard, 30_000 * USDT, sender=stranger)

    gov(guard.rescueToken, big, stranger, 30_000 * USDT)

    assert big.balanceOf(stranger) == 30_000 * USDT
    assert guard.withdrawnToday() == 0


def test_rescue_token__not_a_contract__reverts(guard, gov, stranger):
    with ape.reverts(guard.SafeERC20FailedOperation, token=stranger):
        gov(guard.rescueToken, stranger, stranger, 1 * USDT)
