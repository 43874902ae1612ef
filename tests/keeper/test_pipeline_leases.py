"""Two in-process keepers (pipelines) on one PostgreSQL store and one chain, claims leased (issue 16): each
takes its share, and a keeper whose lease lapsed mid-work stores and posts nothing for that claim."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from support.keeper_world import KeeperWorld
from support.pool import Governance

from keeper.claim_ownership import LeaseConfig
from keeper.pipeline import Pipeline
from keeper.sim.onchain import pick_claims
from keeper.store import ClaimState
from keeper.store.postgres import PostgresStore
from keeper.verification import VerificationOutcome, VerificationRequest


@pytest.fixture
def second_validator(accounts: Any, guard: Any, signers: list[Any], deployer: Any) -> Any:
    account = accounts.generate_test_account()
    deployer.transfer(account, 10**18)
    Governance(guard, signers)(guard.grantRole, guard.VALIDATOR_ROLE(), account)
    return account


def leased_keeper(
    world: KeeperWorld,
    validator: Any,
    name: str,
    url: str,
    seconds: float,
    batch_size: int,
    verify_batch: int = 2,
) -> Pipeline:
    lease = LeaseConfig(owner=name, seconds=seconds, batch_size=batch_size)
    keeper = world.pipeline(validator, name, verify_batch_size=verify_batch, lease=lease)
    keeper.store = PostgresStore(url)  # shared: the pipeline's own SQLite file is left unused
    return keeper


def verdicts_by_validator(guard: Any) -> dict[int, str]:
    head = int(guard.chain_manager.blocks.head.number)
    return {int(e.claimId): str(e.validator) for e in guard.ClaimVerified.range(0, head + 1)}


def filed(keeper_world: Any, count: int) -> KeeperWorld:
    world: KeeperWorld = keeper_world(60)
    picked = [e for e in pick_claims(world.scenarios, 60) if e.review_cause is None][:count]  # verdicts only
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)
    return world


def test_run_once__leases__each_keeper_takes_its_batch_and_posts_only_its_own(
    keeper_world: Any, validator: Any, second_validator: Any, pg_database_url: str
) -> None:
    world = filed(keeper_world, 5)
    a = leased_keeper(world, validator, "a", pg_database_url, 60.0, batch_size=3)
    b = leased_keeper(world, second_validator, "b", pg_database_url, 60.0, batch_size=3)

    assert sorted(a.run_once().decided) == [1, 2, 3]
    assert sorted(b.run_once().decided) == [4, 5]  # 1-3 are posted: not due, not leased again

    assert verdicts_by_validator(world.guard) == {
        i: str(validator if i <= 3 else second_validator) for i in range(1, 6)
    }
    assert {c.lease_owner for c in a.store.claims_in_state(*ClaimState)} == {None}  # all released
    world.assert_verdicts_match_generator(paid=False)


def test_run_once__lease_lapsed_mid_verification__taken_over__the_first_keeper_stores_and_posts_nothing(
    keeper_world: Any,
    validator: Any,
    second_validator: Any,
    pg_database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = filed(keeper_world, 3)
    # a's lease lapses the moment it is taken (0 s): while a waits on the exchanges, b takes every claim over.
    # (One verdict group for a: its one warning names every claim.)
    a = leased_keeper(world, validator, "a", pg_database_url, 0.0, batch_size=10, verify_batch=10)
    b = leased_keeper(world, second_validator, "b", pg_database_url, 60.0, batch_size=10)
    verify_stream = a.verifier.verify_stream
    b_reports = []

    def stalled(requests: Sequence[VerificationRequest]) -> Iterator[tuple[int, VerificationOutcome]]:
        b_reports.append(b.run_once())
        yield from verify_stream(requests)

    a.verifier.verify_stream = stalled  # type: ignore[method-assign]

    report = a.run_once()

    assert sorted(b_reports[0].decided) == sorted(b_reports[0].posted) == [1, 2, 3]
    assert (report.decided, report.posted, report.transactions) == ([], [], [])
    lost = "claims [1, 2, 3]: our lease lapsed, another keeper took them over; not posting them"
    assert lost in caplog.messages
    assert verdicts_by_validator(world.guard) == {i: str(second_validator) for i in (1, 2, 3)}
    assert [a.store.claim(i).state for i in (1, 2, 3)] == [ClaimState.POSTED] * 3
    world.assert_verdicts_match_generator(paid=False)
