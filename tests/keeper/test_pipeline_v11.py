"""The pipeline on contract 1.1 (anvil, the simulator): claims judged against the policy term they were filed
under, the daily approval limit holding a verdict until the next UTC day, a payout the token refuses
(Circle's USDC, a blacklisted trader) alerting and backing off while the rest of the batch is paid, claim
appeals (reopen, cancel, veto) followed from the chain, and the claim window checked against the contract's
claim grace period."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from support.factories import policy
from support.fiat_token import deploy_usdc, mint
from support.keeper_world import CHALLENGE_PERIOD, DAY, KeeperWorld
from support.pool import POOL_FUNDS, Governance, configure

from keeper.chain import ChainClient
from keeper.interface import DEFAULT_CLAIM_GRACE_PERIOD, ClaimStatus, ReasonCode, SkipReason
from keeper.metrics import KeeperMetrics
from keeper.pipeline import ClaimWindowTooLongError, check_claim_window, next_utc_day
from keeper.sim.onchain import PoolLimits, pick_claims, pool_limit_calls
from keeper.sim.scenarios import ExpectedVerdict
from keeper.store import ClaimState
from operator_toolkit.deployment import deploy_leverage_guard
from operator_toolkit.multisig import encode_multicall, propose_confirm_execute

HOUR = 3_600


def _approvals(world: KeeperWorld, count: int) -> list[ExpectedVerdict]:
    picked = [e for e in pick_claims(world.scenarios, 80) if e.reason_code == ReasonCode.APPROVED][:count]
    assert len(picked) == count
    return picked


def _verdicts(guard: Any, claim_id: int) -> list[Any]:
    head = int(guard.chain_manager.blocks.head.number)
    return [e for e in guard.ClaimVerified.range(0, head + 1) if int(e.claimId) == claim_id]


# --- the policy term at submittedAt


def test_run_once__coverage_renewed_after_filing__verdict_uses_the_filing_time_term(
    keeper_world: Any, validator: Any, guard: Any, registrar: Any
) -> None:
    """Judged against today's getPolicy, the re-added claim would be rejected OUTSIDE_COVERAGE (its new term
    starts after the liquidation), and the extended claim's evidence record would commit to the new end and
    limit; both are judged, and their records committed, under the term they were filed in."""
    world: KeeperWorld = keeper_world(80)
    extended_claim, other = _approvals(world, 2)
    picked = [extended_claim, other]
    world.whitelist(picked)
    starts = {
        e.claim["claim_id"]: int(guard.getPolicy(world.traders[e.claim["claim_id"]]).coverageStart)
        for e in picked
    }
    for expected in picked:
        world.file(expected)
    extended, readded = (world.traders[e.claim["claim_id"]] for e in (extended_claim, other))
    limit, end = extended_claim.claim["remaining_coverage"], extended_claim.claim["coverage_end"]
    guard.extendCoverage([extended], 2 * limit, end + 30 * DAY, sender=registrar)
    guard.removeFromWhitelist([readded], sender=registrar)
    world.advance(60)
    guard.addToWhitelist(
        [readded],
        [bytes.fromhex(other.claim["account_ref"][2:])],
        other.claim["remaining_coverage"] + 1,
        other.claim["coverage_end"] + DAY,
        sender=registrar,
    )
    assert int(guard.getPolicy(readded).coverageStart) > other.claim["submitted_at"]
    assert int(guard.remainingCoverage(extended)) == 2 * limit
    keeper = world.pipeline(validator)

    report = keeper.run_once()

    assert sorted(report.posted) == sorted(f.claim_id for f in world.filed)
    world.assert_verdicts_match_generator(paid=False)
    for f in world.filed:
        stored = keeper.store.decision(f.claim_id)
        assert stored is not None
        judged = stored.canonical_record["claim"]
        generated = f.expected.claim
        assert (judged["coverage_start"], judged["coverage_end"], judged["remaining_coverage"]) == (
            starts[generated["claim_id"]],
            generated["coverage_end"],
            generated["remaining_coverage"],
        ), f.expected.scenario


# --- the daily approval limit


def test_run_once__verdict_over_daily_approval_limit__held_until_next_utc_day_then_posted(
    keeper_world: Any,
    validator: Any,
    guard: Any,
    signers: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    world: KeeperWorld = keeper_world(80)
    approvals = _approvals(world, 3)
    world.whitelist(approvals)
    for expected in approvals:
        world.file(expected)
    allowed = approvals[0].payout + approvals[1].payout
    Governance(guard, signers)(guard.setDailyApprovalLimit, allowed)
    keeper = world.pipeline(validator, verify_batch_size=3)
    ids = [f.claim_id for f in world.filed]

    with caplog.at_level(logging.ERROR, logger="keeper.pipeline"):
        report = keeper.run_once()

    last = ids[-1]
    assert report.posted == ids[:2] and report.held == [last]
    assert report.reverted_dry_runs == ["verify", "verify", "verify"]  # [1,2,3] -> [1] | [2,3] -> [2] | [3]
    now = int(world.chain.blocks.head.timestamp)
    retry_at = next_utc_day(now)
    error = f"DailyApprovalLimitExceeded(requested={approvals[2].payout}, remaining=0)"
    record = keeper.store.claim(last)
    assert (record.state, record.next_attempt_at, record.last_error) == (
        ClaimState.DEFERRED,
        retry_at,
        f"verdict_reverted: {error}",
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"ALERT claim {last}: its verdict reverts on chain ({error}); retry in {retry_at - now}s"
    ]
    assert ClaimStatus(int(guard.getClaim(last).status)) is ClaimStatus.PENDING
    assert keeper.run_once().decided == []  # still the same UTC day: not verified again

    world.chain.mine(timestamp=retry_at)
    retried = keeper.run_once()

    assert retried.decided == retried.posted == [last]
    world.advance(CHALLENGE_PERIOD)
    keeper.run_once()
    world.assert_verdicts_match_generator(paid=True)


# --- a payout the token refuses


@pytest.fixture
def usdc_pool(
    project: Any,
    accounts: Any,
    chain: Any,
    deployer: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    sponsor: Any,
) -> tuple[Any, Any]:
    """(guard, Usdc): a configured LeverageGuard on Circle's USDC, funded with POOL_FUNDS."""
    roles = []
    for _ in range(4):
        account = accounts.generate_test_account()
        chain.provider.set_balance(account.address, 10**20)
        roles.append(account)
    usdc = deploy_usdc(deployer, *roles)
    pool = deploy_leverage_guard(project, deployer, usdc.token, signers, 2).guard
    configure(pool, signers, guardian, validator, registrar)
    mint(usdc, sponsor, sponsor, POOL_FUNDS)
    usdc.token.approve(pool, POOL_FUNDS, sender=sponsor)
    pool.deposit(POOL_FUNDS, sender=sponsor)
    return pool, usdc


def test_run_once__token_refuses_one_payout__alert_backed_off_rest_of_batch_paid(
    keeper_world: Any,
    validator: Any,
    usdc_pool: tuple[Any, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool, usdc = usdc_pool
    world: KeeperWorld = keeper_world(80, pool=pool)
    approvals = _approvals(world, 3)
    world.whitelist(approvals)
    for expected in approvals:
        world.file(expected)
    keeper = world.pipeline(validator)
    assert sorted(keeper.run_once().posted) == [f.claim_id for f in world.filed]
    blocked = world.filed[1]
    usdc.token.blacklist(blocked.trader, sender=usdc.blacklister)
    world.advance(CHALLENGE_PERIOD)
    now = int(world.chain.blocks.head.timestamp)  # the pass's clock: the payout batch is its first write

    with caplog.at_level(logging.ERROR, logger="keeper.pipeline"):
        first = keeper.run_once()

    others = [f for f in world.filed if f is not blocked]
    assert first.paid == [f.claim_id for f in others]
    assert first.payout_failed == [blocked.claim_id]
    assert len(first.transactions) == 1  # one batch: the refused transfer did not revert it
    user = str(blocked.trader.address).lower()
    assert [r.getMessage() for r in caplog.records] == [
        f"ALERT claim {blocked.claim_id}: the token refused its payout of {blocked.expected.payout} to {user}"
        " (PayoutFailed, failure 1); retry in 3600s"
    ]
    record = keeper.store.claim(blocked.claim_id)
    assert (record.state, record.payout_failures, record.payout_retry_at) == (
        ClaimState.POSTED,
        1,
        now + HOUR,
    )
    metrics = KeeperMetrics()
    metrics.observe_pass(first)
    assert metrics.registry.get_sample_value("keeper_payout_failures_total") == 1
    assert [usdc.token.balanceOf(f.trader) for f in world.filed] == [
        0 if f is blocked else f.expected.payout for f in world.filed
    ]

    assert keeper.run_once().transactions == []  # backed off: the failing claim is not sent again
    world.advance(HOUR)
    now = int(world.chain.blocks.head.timestamp)
    second = keeper.run_once()
    assert second.payout_failed == [blocked.claim_id] and second.paid == []
    record = keeper.store.claim(blocked.claim_id)
    assert (record.payout_failures, record.payout_retry_at) == (2, now + 6 * HOUR)  # 1 h, then 6 h

    usdc.token.unBlacklist(blocked.trader, sender=usdc.blacklister)
    world.advance(6 * HOUR)
    third = keeper.run_once()

    assert third.paid == [blocked.claim_id] and third.payout_failed == []
    assert usdc.token.balanceOf(blocked.trader) == blocked.expected.payout
    assert int(pool.reservedAmount()) == 0
    world.assert_verdicts_match_generator(paid=True)


def test_run_once__payout_over_daily_payout_limit__skipped_then_paid_next_utc_day(
    keeper_world: Any, validator: Any, guard: Any, signers: list[Any]
) -> None:
    world: KeeperWorld = keeper_world(80)
    approvals = _approvals(world, 3)
    world.whitelist(approvals)
    for expected in approvals:
        world.file(expected)
    gov = Governance(guard, signers)
    gov(guard.setMaxPayoutPerClaim, max(e.payout for e in approvals))
    gov(guard.setDailyPayoutLimit, approvals[0].payout + approvals[1].payout)
    keeper = world.pipeline(validator)
    keeper.run_once()
    world.advance(CHALLENGE_PERIOD)
    now = int(world.chain.blocks.head.timestamp)

    report = keeper.run_once()

    ids = [f.claim_id for f in world.filed]
    assert report.paid == ids[:2]
    assert report.payout_skipped == [(ids[2], SkipReason.DAILY_PAYOUT_LIMIT)]
    assert report.payout_failed == []
    record = keeper.store.claim(ids[2])
    assert (record.payout_failures, record.payout_retry_at) == (0, next_utc_day(now))
    assert keeper.run_once().transactions == []  # waits for the limit to reset

    world.chain.mine(timestamp=next_utc_day(now))
    assert keeper.run_once().paid == [ids[2]]
    world.assert_verdicts_match_generator(paid=True)


# --- claim appeals


def test_run_once__appeals_on_chain__reopened_verified_again_cancelled_and_vetoed_recorded(
    keeper_world: Any, validator: Any, guard: Any, signers: list[Any], guardian: Any
) -> None:
    world: KeeperWorld = keeper_world(80)
    picked = pick_claims(world.scenarios, 80)
    cancelled, vetoed = _approvals(world, 2)
    rejected = next(e for e in picked if e.reason_code == ReasonCode.ORDER_NOT_FOUND)
    chosen = sorted([cancelled, vetoed, rejected], key=lambda e: e.claim["submitted_at"])
    world.whitelist(chosen)
    for expected in chosen:
        world.file(expected)
    keeper = world.pipeline(validator)
    assert len(keeper.run_once().posted) == 3
    by_claim = {f.expected.claim["claim_id"]: f.claim_id for f in world.filed}
    cancel_id, veto_id, reopen_id = (by_claim[e.claim["claim_id"]] for e in (cancelled, vetoed, rejected))
    gov = Governance(guard, signers)
    gov(guard.cancelApprovedClaim, cancel_id, ReasonCode.GUARDIAN_VETO)
    guard.vetoClaim(veto_id, ReasonCode.GUARDIAN_VETO, sender=guardian)
    gov(guard.reopenClaim, reopen_id)
    assert ClaimStatus(int(guard.getClaim(reopen_id).status)) is ClaimStatus.PENDING

    report = keeper.run_once()

    assert sorted(report.appeals) == sorted(
        [(cancel_id, "cancelled"), (veto_id, "vetoed"), (reopen_id, "reopened")]
    )
    assert report.decided == report.posted == [reopen_id]  # verified and decided again
    assert [int(e.reasonCode) for e in _verdicts(guard, reopen_id)] == [ReasonCode.ORDER_NOT_FOUND] * 2
    states = {cid: keeper.store.claim(cid).state for cid in (cancel_id, veto_id, reopen_id)}
    assert states == {
        cancel_id: ClaimState.CANCELLED,
        veto_id: ClaimState.VETOED,
        reopen_id: ClaimState.POSTED,
    }
    assert keeper.run_once().appeals == []  # each appeal is ingested once
    world.advance(CHALLENGE_PERIOD)
    assert keeper.run_once().paid == []  # neither the cancelled nor the vetoed approval is paid


# --- the claim window against the contract's claim grace period


def test_check_claim_window__longer_than_claim_grace_period__refused_naming_both(
    guard: Any, validator: Any, chain: Any
) -> None:
    client = ChainClient(guard, validator, chain)
    assert client.claim_grace_period() == DEFAULT_CLAIM_GRACE_PERIOD
    check_claim_window(policy(claim_window_seconds=DEFAULT_CLAIM_GRACE_PERIOD), client)  # equal is fine

    with pytest.raises(ClaimWindowTooLongError) as raised:
        check_claim_window(policy(claim_window_seconds=DEFAULT_CLAIM_GRACE_PERIOD + 1), client)

    assert (raised.value.claim_window_seconds, raised.value.claim_grace_period) == (
        DEFAULT_CLAIM_GRACE_PERIOD + 1,
        DEFAULT_CLAIM_GRACE_PERIOD,
    )
    assert str(raised.value) == (
        f"LG_CLAIM_WINDOW_SECONDS={DEFAULT_CLAIM_GRACE_PERIOD + 1} is longer than the contract's "
        f"claimGracePeriod()={DEFAULT_CLAIM_GRACE_PERIOD}: lower the claim window to at most the grace period"
    )


# --- the seeding's pool limits


def test_pool_limit_calls__one_multicall_on_a_fresh_pool__every_limit_set(
    fresh_guard: Any, signers: list[Any]
) -> None:
    """The order matters on 1.1: setMaxPayoutPerClaim before setDailyPayoutLimit reverts
    MaxPayoutAboveDailyPayoutLimit on a fresh pool (every limit 0)."""
    limits = PoolLimits()

    propose_confirm_execute(
        fresh_guard, encode_multicall(fresh_guard, pool_limit_calls(fresh_guard)), signers
    )

    assert (
        fresh_guard.dailyWithdrawalLimit(),
        fresh_guard.dailyPayoutLimit(),
        fresh_guard.maxPayoutPerClaim(),
        fresh_guard.dailyApprovalLimit(),
        fresh_guard.maxCoverageLimit(),
    ) == (
        limits.daily_withdrawal_limit,
        limits.daily_payout_limit,
        limits.max_payout_per_claim,
        limits.daily_approval_limit,
        limits.max_coverage_limit,
    )
