"""Budget-aware admission in a pass (issue 15): Binance claims beyond the weight budget left stay recorded
and due, with no attempt counted, and are decided by a later pass; nothing is deferred as if the exchange
refused."""

from __future__ import annotations

from typing import Any

from support.factories import make_settings
from support.keeper_world import KeeperWorld

from keeper.exchanges.binance import worst_case_claim_weight
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.sim.onchain import pick_claims
from keeper.store import ClaimState


def _verifier(world: KeeperWorld, weight_per_minute: int) -> Verifier:
    settings = make_settings(
        world.sim.url,
        world.accounts_file,
        world.tmp_path / "malformed",
        binance_weight_limit_per_minute=weight_per_minute,
        binance_weight_safety_margin=0,
    )
    return Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers)


def test_run_once__binance_budget_for_two_claims__third_waits_due_without_attempt(
    keeper_world: Any, validator: Any
) -> None:
    world: KeeperWorld = keeper_world(120)
    binance = [e for e in pick_claims(world.scenarios, 120) if e.claim["exchange"] == "binance"][:3]
    assert len(binance) == 3
    world.whitelist(binance)
    for expected in binance:
        world.file(expected)
    keeper = world.pipeline(validator)
    # Room for two worst-case Binance claims, one weight unit short of a third.
    keeper.verifier = _verifier(world, 3 * worst_case_claim_weight() - 1)

    first = keeper.run_once()

    ids = [f.claim_id for f in world.filed]
    assert first.waiting_for_budget == ids[2:]
    assert sorted(first.decided) == ids[:2]
    assert first.deferred == []
    held = keeper.store.claim(ids[2])
    assert (held.state, held.attempts, held.last_error) == (ClaimState.RECORDED, 0, None)
    assert [c.claim_id for c in keeper.store.due_for_verification(keeper.chain.now())] == ids[2:]

    keeper.verifier = _verifier(world, 2_400)  # the next minute's budget
    second = keeper.run_once()

    assert second.waiting_for_budget == []
    assert second.decided == ids[2:]
    world.assert_verdicts_match_generator(paid=False)
