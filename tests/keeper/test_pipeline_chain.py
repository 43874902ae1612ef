"""The pipeline on anvil against generated scenarios: every scenario kind, a rolled-back claim, a verdict that
reverts on its own inside a batch, and sharding between two keepers."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from support.keeper_world import CHALLENGE_PERIOD, KeeperWorld
from support.pool import USDT, Governance

from keeper.interface import ClaimStatus, ReasonCode
from keeper.sim.generator import EXCHANGE_KINDS
from keeper.sim.onchain import pick_claims
from keeper.store import ClaimState

EVERY_KIND = [f"{exchange}:{kind}" for exchange, kinds in EXCHANGE_KINDS.items() for kind in kinds]
# Reason codes the seeder's claims reach the keeper with. ZERO_PAYOUT (10) cannot be filed: the contract
# refuses a claim above remaining coverage. OUTSIDE_COVERAGE (7) can be filed on 1.1 only in the claim grace
# period after coverage ends, which `fileable` leaves out (see tests/contract). UNKNOWN_ACCOUNT (4) is no
# longer a verdict: such a claim waits for a person (manual review).
FILEABLE_REASONS = {0, 1, 2, 3, 5, 8, 9}


def verdict_events(guard: Any) -> list[Any]:
    return list(guard.ClaimVerified.range(0, int(guard.chain_manager.blocks.head.number) + 1))


def test_run_once__every_scenario_kind__on_chain_verdicts_match_generator(
    keeper_world: Any, validator: Any, token: Any
) -> None:
    world: KeeperWorld = keeper_world(120)
    picked = pick_claims(world.scenarios, 45, first=EVERY_KIND)
    assert {e.claim["exchange"] for e in picked} == {"okx", "binance", "bybit"}
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)
    keeper = world.pipeline(validator, verify_batch_size=10, payout_batch_size=10)

    first = keeper.run_once()
    world.advance(CHALLENGE_PERIOD)
    second = keeper.run_once()

    # An unknown account is the keeper's configuration gap: a person decides it (before: UNKNOWN_ACCOUNT).
    reviewed = [f for f in world.filed if f.expected.review_cause is not None]
    assert reviewed and {f.expected.review_cause for f in reviewed} == {"unknown_account"}
    assert sorted(first.reviewed) == sorted((f.claim_id, "unknown_account") for f in reviewed)
    assert all(world.status(f) is ClaimStatus.PENDING for f in reviewed)
    world.filed = [f for f in world.filed if f not in reviewed]
    assert sorted(first.decided) == sorted(f.claim_id for f in world.filed)
    assert first.deferred == first.held == []
    for f in world.filed:  # the raw answers are kept at first fetch, as the evidence record commits to them
        stored = keeper.store.decision(f.claim_id)
        assert stored is not None and stored.policy is not None
        raw = keeper.store.answers(f.claim_id)
        assert [a.digest() for a in raw] == stored.canonical_record["answers"], f.expected.scenario
        assert raw or f.expected.reason_code == ReasonCode.ACCOUNT_MISMATCH, f.expected.scenario
    approved = sorted(f.claim_id for f in world.filed if f.expected.reason_code == 0)
    assert sorted(second.paid) == approved
    world.assert_verdicts_match_generator(paid=True)
    assert {f.expected.reason_code for f in world.filed} == FILEABLE_REASONS
    for f in world.filed:
        assert token.balanceOf(f.trader) == f.expected.payout, f.expected.scenario
    assert sorted(int(e.claimId) for e in verdict_events(world.guard)) == sorted(
        f.claim_id for f in world.filed
    )


def test_run_once__claim_rolled_back_before_confirmations__never_acted_on(
    keeper_world: Any, validator: Any, chain: Any
) -> None:
    """A claim seen only above `head - confirmations` is not read; after a reorg the other history wins."""
    world: KeeperWorld = keeper_world(60)
    approved = next(e for e in pick_claims(world.scenarios, 60) if e.reason_code == 0)
    rejected = next(
        e
        for e in pick_claims(world.scenarios, 60, after=approved.claim["submitted_at"])
        if e.reason_code != 0
    )
    world.whitelist([approved, rejected])
    keeper = world.pipeline(validator, confirmations=2)
    snapshot = chain.snapshot()

    orphan = world.file(approved)
    before = keeper.run_once()
    assert before.recorded == [] and before.decided == []

    chain.restore(snapshot)  # the block with the orphaned claim is gone
    world.filed.clear()
    canonical = world.file(rejected)
    assert canonical.claim_id == orphan.claim_id  # the same claim id now names another claim
    world.advance(1)
    world.advance(1)
    after = keeper.run_once()

    assert after.recorded == after.decided == after.posted == [canonical.claim_id]
    world.assert_verdicts_match_generator(paid=False)
    assert keeper.store.claim(canonical.claim_id).order_id == rejected.claim["order_id"]


def test_run_once__verdict_the_pool_cannot_reserve__held_alone_then_posted_after_deposit(
    keeper_world: Any,
    validator: Any,
    guard: Any,
    signers: list[Any],
    token: Any,
    sponsor: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world: KeeperWorld = keeper_world(80)
    approvals = [e for e in pick_claims(world.scenarios, 80) if e.reason_code == 0][:4]
    assert len(approvals) == 4
    world.whitelist(approvals)
    for expected in approvals:
        world.file(expected)
    # Leave one token unit less than the four payouts need: the last verdict cannot reserve its payout.
    needed = sum(e.payout for e in approvals)
    gov = Governance(guard, signers)
    gov(guard.setDailyWithdrawalLimit, 10**12 * USDT)
    gov(guard.withdraw, signers[0], int(guard.totalAssets()) - needed + 1)
    keeper = world.pipeline(validator, verify_batch_size=4)
    ids = [f.claim_id for f in world.filed]

    with caplog.at_level(logging.ERROR, logger="keeper.pipeline"):
        report = keeper.run_once()

    last = ids[-1]
    assert report.posted == ids[:3] and report.held == [last]
    # Batch of 4 reverts -> halves: [1, 2] posted, [3, 4] reverts -> [3] posted, [4] reverts alone.
    assert report.reverted_dry_runs == ["verify", "verify", "verify"]
    record = keeper.store.claim(last)
    assert record.state is ClaimState.DEFERRED
    free = approvals[-1].payout - 1
    error = f"InsufficientFreeBalance(needed={approvals[-1].payout}, free={free})"
    assert record.last_error == f"verdict_reverted: {error}"
    assert [r.getMessage() for r in caplog.records] == [
        f"ALERT claim {last}: its verdict reverts on chain ({error}); retry in 120s"
    ]  # back-off 60 s x 2^attempts; deciding it was attempt 1
    assert ClaimStatus(int(guard.getClaim(last).status)) is ClaimStatus.PENDING

    token.mint(sponsor, 1_000 * USDT, sender=sponsor)
    token.approve(guard, 1_000 * USDT, sender=sponsor)
    guard.deposit(1_000 * USDT, sender=sponsor)
    world.advance(120)
    retried = keeper.run_once()

    assert retried.decided == retried.posted == [last]
    world.assert_verdicts_match_generator(paid=False)


def test_run_once__two_shards__each_decides_its_own_then_takes_over_a_stale_one(
    keeper_world: Any, validator: Any, accounts: Any, guard: Any, signers: list[Any], deployer: Any
) -> None:
    world: KeeperWorld = keeper_world(60)
    picked = [e for e in pick_claims(world.scenarios, 60) if e.review_cause is None][:5]  # verdicts only
    world.whitelist(picked)
    for expected in picked[:4]:
        world.file(expected)
    second_validator = accounts.generate_test_account()
    deployer.transfer(second_validator, 10**18)
    Governance(guard, signers)(guard.grantRole, guard.VALIDATOR_ROLE(), second_validator)
    never = {"shard_count": 2, "shard_takeover_seconds": 10**9}
    even = world.pipeline(validator, "even", shard_index=0, **never)
    odd = world.pipeline(second_validator, "odd", shard_index=1, **never)

    assert sorted(even.run_once().decided) == [2, 4]
    assert sorted(odd.run_once().decided) == [1, 3]
    by_validator = {int(e.claimId): str(e.validator) for e in verdict_events(guard)}
    assert by_validator == {i: str(validator if i % 2 == 0 else second_validator) for i in range(1, 5)}

    # The odd keeper is down: its next claim waits out the takeover delay, then the even keeper decides it.
    even.config = replace(even.config, shard_takeover_seconds=600)
    world.file(picked[4])
    assert even.run_once().decided == []
    world.advance(600)
    assert even.run_once().decided == [5]
    assert str(verdict_events(guard)[-1].validator) == str(validator)
    world.assert_verdicts_match_generator(paid=False)


def test_run_once__approvals_in_their_window__read_once_then_only_when_due(
    keeper_world: Any, validator: Any
) -> None:
    world: KeeperWorld = keeper_world(60)
    approvals = [e for e in pick_claims(world.scenarios, 60) if e.reason_code == 0][:3]
    world.whitelist(approvals)
    for expected in approvals:
        world.file(expected)
    keeper = world.pipeline(validator)
    keeper.run_once()  # decides and posts; the pay step reads each approval once
    keeper.chain.reads.clear()

    keeper.run_once()
    keeper.run_once()
    assert keeper.chain.reads == {}  # nothing is due: no contract read at all

    world.advance(CHALLENGE_PERIOD)
    paying = keeper.run_once()
    ids = [f.claim_id for f in world.filed]
    assert sorted(paying.paid) == ids
    world.assert_verdicts_match_generator(paid=True)
    assert keeper.run_once().paid == []
