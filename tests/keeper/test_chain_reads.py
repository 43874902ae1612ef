"""The keeper's contract reads (issue 15): batched through the pool's multicall, the same views as the single
getters, and a read budget per pass that does not grow with the backlog (counted, not timed)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from support.keeper_world import CHALLENGE_PERIOD, filed_world

from keeper import chain as chain_module
from keeper.chain import ChainClient
from keeper.chain_codec import READ_BATCH, ViewAbiError, ViewCodec
from keeper.interface import ClaimStatus


def test_claims__batched_read__same_views_as_get_claim_and_get_policy(
    keeper_world: Any, validator: Any
) -> None:
    world = filed_world(keeper_world, 6)
    client = ChainClient(world.guard, validator, world.chain)
    ids = [f.claim_id for f in world.filed] + [10_000]  # an unknown id reads as status None
    users = [str(world.traders[f.expected.claim["claim_id"]]) for f in world.filed]

    claims, policies = client.claims_and_policies(ids, users)

    assert client.reads == {"eth_call": 1, "getClaim": 7, "getPolicy": 6}
    for claim_id in ids:
        got, want = claims[claim_id], world.guard.getClaim(claim_id)
        assert (got.user, got.status, got.claimed_loss, got.submitted_at, got.payable_at) == (
            str(want.user).lower(),
            ClaimStatus(int(want.status)),
            int(want.claimedLoss),
            int(want.submittedAt),
            int(want.payableAt),
        )
    assert claims[10_000].status is ClaimStatus.NONE
    for user in users:
        got_policy, want_policy = policies[user.lower()], world.guard.getPolicy(user)
        assert (
            got_policy.account_ref,
            got_policy.coverage_limit,
            got_policy.coverage_end,
            got_policy.used,
        ) == (
            "0x" + bytes(want_policy.accountRef).hex(),
            int(want_policy.coverageLimit),
            int(want_policy.coverageEnd),
            int(want_policy.used),
        )
        assert got_policy.whitelisted is True and got_policy.blacklisted is False


def test_claims__more_ids_than_a_read_batch__one_eth_call_per_batch(
    keeper_world: Any, validator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = filed_world(keeper_world, 5)
    client = ChainClient(world.guard, validator, world.chain)
    monkeypatch.setattr(chain_module, "READ_BATCH", 2)
    ids = [f.claim_id for f in world.filed]

    views = client.claims(ids + ids[:2])  # repeated ids are read once

    assert list(views) == ids
    assert client.reads == {"eth_call": 3, "getClaim": 5}


def test_view_codec__method_missing_from_abi__names_it() -> None:
    with pytest.raises(ViewAbiError, match="'getClaims': expected one method of that name, found 0"):
        ViewCodec.from_abi([], "getClaims")


def test_run_once__backlog__contract_reads_per_pass_fixed_not_per_claim(
    keeper_world: Any, validator: Any
) -> None:
    """The read budget of a pass: a fixed number of ``eth_call``s, whatever the backlog (below READ_BATCH).
    Pass 1: one read of every due claim and policy, the contract's payout cap, one read of the new approvals
    in the pay step (the verdicts of claims read Pending at the pass's start are posted without another
    read). Pass 2 (nothing due): one read of the claims waiting for a person (another keeper may decide
    them), nothing else. After the challenge window: that read and one read of the due approvals; a payout
    batch is read back from its receipt."""
    count, batch = 24, 10
    world = filed_world(keeper_world, count)
    keeper = world.pipeline(validator, verify_batch_size=batch, payout_batch_size=batch)
    reads = keeper.chain.reads

    first = keeper.run_once()
    reviewed = [claim_id for claim_id, _ in first.reviewed]
    decided = [f for f in world.filed if f.claim_id not in reviewed]
    approvals = [f for f in decided if f.expected.reason_code == 0]
    assert len(reviewed) == 1 and len(approvals) >= batch  # the workload has what the budget below counts
    assert sorted(first.decided) == sorted(f.claim_id for f in decided)
    assert len(first.transactions) == math.ceil(len(decided) / batch)  # verdict batches only
    assert reads["eth_call"] == 1 + 1 + 1
    assert reads["getClaim"] == count + len(approvals)
    assert reads["getPolicy"] == count  # one trader per claim here; a trader's policy is read once per pass
    assert count + len(approvals) < READ_BATCH

    reads.clear()
    keeper.run_once()
    assert reads == {"eth_call": 1, "getClaim": len(reviewed)}

    world.advance(CHALLENGE_PERIOD)
    reads.clear()
    paying = keeper.run_once()
    assert sorted(paying.paid) == sorted(f.claim_id for f in approvals)
    assert len(paying.transactions) == math.ceil(len(approvals) / batch)
    assert reads["eth_call"] == 1 + 1
    assert reads["getClaim"] == len(reviewed) + len(approvals)
