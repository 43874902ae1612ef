"""The keeper end to end: anvil + the deployed pool + the simulated exchanges + ``Pipeline.run_once``.

Scenarios come from the seeded generator with its time anchor moved to the chain's clock (the generator
places liquidations in the 30 days after its anchor; on chain, coverage starts at whitelisting and
``submittedAt`` is the block time, so both must follow the liquidation). Each claim is filed at exactly the
scenario's ``submitted_at``, so the on-chain claim is the generated one and the generator's expected verdict
applies unchanged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.factories import make_settings

from keeper.audit_log import AuditLog, verify_audit_log
from keeper.chain import ChainClient
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.interface import ClaimStatus
from keeper.pipeline import Pipeline, PipelineConfig
from keeper.policy import PolicyParams
from keeper.sim import generator
from keeper.sim.faults import FaultConfig
from keeper.sim.onchain import ClaimSeeder, fileable
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.store import ClaimState, SqliteStore, TxKind

DAY = 86_400
CHALLENGE_PERIOD = 3_600
SEED = 5_2026
# One of each: approved liquidations on both exchanges, rejections with evidence (normal close, ADL) and
# one without (unknown order); then one more OKX liquidation, filed later while the keeper is down.
WANTED = (
    "binance:full_liquidation",
    "okx:partial_liquidation",
    "binance:normal_close",
    "okx:unknown_order",
    "okx:adl",
)
LATE = "okx:full_liquidation"
STATUS_FOR_REASON = {True: ClaimStatus.APPROVED, False: ClaimStatus.REJECTED}


@dataclass
class World:
    scenarios: ScenarioFile
    picked: list[ExpectedVerdict]
    traders: dict[int, Any]  # generator claim id -> ape account
    seeder: ClaimSeeder
    sim: SimExchange
    keeper: Pipeline
    store: SqliteStore
    audit_path: Path


@pytest.fixture
def world(
    chain: Any,
    accounts: Any,
    guard: Any,
    registrar: Any,
    validator: Any,
    deployer: Any,
    tmp_path: Path,
) -> Iterator[World]:
    scenarios = generator.generate(120, SEED, anchor=int(chain.pending_timestamp) + DAY)
    # One claim per exchange account (on 1.1 an accountRef is bound to one trader at a time): the scarcest
    # scenario kinds choose first.
    refs: set[str] = set()
    chosen: dict[str, ExpectedVerdict] = {}
    fileable_of = {
        name: [e for e in scenarios.expected if e.scenario == name and fileable(e)] for name in WANTED
    }
    for name in sorted(WANTED, key=lambda n: len(fileable_of[n])):
        candidates = [e for e in fileable_of[name] if e.claim["account_ref"] not in refs]
        assert candidates, f"seed {SEED} has no fileable {name}"
        chosen[name] = min(candidates, key=lambda e: e.claim["submitted_at"])
        refs.add(chosen[name].claim["account_ref"])
    picked: list[ExpectedVerdict] = [chosen[name] for name in WANTED]
    last_early = max(e.claim["submitted_at"] for e in picked)
    late = [
        e
        for e in scenarios.expected
        if e.scenario == LATE
        and fileable(e)
        and e.claim["submitted_at"] > last_early + 60
        and e.claim["account_ref"] not in refs
    ]
    assert late, f"seed {SEED} has no fileable {LATE} after the others"
    picked.append(max(late, key=lambda e: e.claim["submitted_at"]))

    seeder = ClaimSeeder(chain, guard, registrar, deployer, accounts)
    traders = seeder.whitelist(picked)

    accounts_file = tmp_path / "accounts.json"
    scenarios.write_keeper_accounts(accounts_file)
    sim = SimExchange(scenarios).start()
    settings = make_settings(sim.url, accounts_file, tmp_path / "malformed")
    store = SqliteStore(tmp_path / "keeper.sqlite3")
    audit_path = tmp_path / "audit.jsonl"
    keeper = Pipeline(
        chain=ChainClient(guard, validator, chain),
        store=store,
        audit=AuditLog(audit_path),
        verifier=Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers),
        policy=PolicyParams.model_validate(scenarios.policy),
        config=PipelineConfig(confirmations=0, verify_batch_size=2, defer_base_seconds=60),
    )
    yield World(scenarios, picked, traders, seeder, sim, keeper, store, audit_path)
    sim.stop()
    store.close()


def file_claim(chain: Any, guard: Any, world: World, expected: ExpectedVerdict) -> int:
    """Files the generated claim at its generated submission time; returns the on-chain claim id."""
    return world.seeder.file(expected, world.traders[expected.claim["claim_id"]]).claim_id


def advance(chain: Any, seconds: int) -> None:
    chain.mine(timestamp=int(chain.pending_timestamp) + seconds)


def assert_on_chain(guard: Any, on_chain_id: int, expected: ExpectedVerdict, paid: bool) -> None:
    view = guard.getClaim(on_chain_id)
    approved = expected.reason_code == 0
    want = ClaimStatus.PAID if paid and approved else STATUS_FOR_REASON[approved]
    assert (ClaimStatus(view.status), view.payout, view.reasonCode) == (
        want,
        expected.payout,
        expected.reason_code,
    ), expected.scenario


def test_run_once__generated_claims__on_chain_verdicts_match_generator(
    chain: Any, guard: Any, token: Any, world: World
) -> None:
    *unsorted, late = world.picked
    early = sorted(unsorted, key=lambda e: e.claim["submitted_at"])
    ids = {e.claim["claim_id"]: file_claim(chain, guard, world, e) for e in early}
    # The set must exercise approvals (early and late) and rejections.
    assert {e.reason_code == 0 for e in early} == {True, False} and late.reason_code == 0

    first = world.keeper.run_once()

    assert sorted(first.recorded) == sorted(ids.values())
    assert sorted(first.decided) == sorted(first.posted) == sorted(ids.values())
    assert first.deferred == first.paid == []
    assert len(first.transactions) == 3  # 5 verdicts in batches of 2
    for e in early:
        assert_on_chain(guard, ids[e.claim["claim_id"]], e, paid=False)

    # The keeper is down; a claim is filed, and the challenge window of the first verdicts passes.
    ids[late.claim["claim_id"]] = late_id = file_claim(chain, guard, world, late)
    advance(chain, CHALLENGE_PERIOD)

    second = world.keeper.run_once()

    approved_early = sorted(ids[e.claim["claim_id"]] for e in early if e.reason_code == 0)
    assert (second.recorded, second.decided, second.posted) == ([late_id], [late_id], [late_id])
    assert sorted(second.paid) == approved_early
    for e in early:
        assert_on_chain(guard, ids[e.claim["claim_id"]], e, paid=True)
    assert_on_chain(guard, late_id, late, paid=False)

    advance(chain, CHALLENGE_PERIOD)
    third = world.keeper.run_once()

    assert third.paid == ([late_id] if late.reason_code == 0 else [])
    for e in world.picked:
        assert_on_chain(guard, ids[e.claim["claim_id"]], e, paid=True)
        trader = world.traders[e.claim["claim_id"]]
        assert token.balanceOf(trader) == e.payout, e.scenario
    assert guard.reservedAmount() == 0

    # Restart: a new pipeline on the same store and audit log finds nothing to do.
    transactions_before = world.store.transactions()
    again = world.keeper.run_once()
    assert (again.recorded, again.decided, again.posted, again.paid, again.transactions) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert world.store.transactions() == transactions_before
    kinds = [t.kind for t in transactions_before]
    # Verdicts: 3 batches in the first run, 1 for the late claim; payouts: one batch per later run.
    assert (kinds.count(TxKind.VERIFY), kinds.count(TxKind.PAYOUT)) == (4, 2)

    report = verify_audit_log(world.audit_path)
    assert report.ok, report.problem
    assert (report.decisions, report.transactions) == (len(world.picked), len(transactions_before))
    for e in world.picked:
        stored = world.store.decision(ids[e.claim["claim_id"]])
        assert stored is not None
        assert (stored.decision.payout, int(stored.decision.reason_code)) == (e.payout, e.reason_code)


def test_run_once__crash_after_posting__restart_posts_nothing_twice(
    chain: Any, guard: Any, world: World
) -> None:
    """A store that lost the 'posted' step (crash after the transaction) must not post again."""
    expected = world.picked[0]
    claim_id = file_claim(chain, guard, world, expected)
    world.keeper.run_once()
    world.store.set_state([claim_id], ClaimState.DECIDED)  # as if the crash hit before set_state(POSTED)

    again = world.keeper.run_once()

    assert again.posted == [] and again.transactions == []
    assert world.store.claim(claim_id).state is ClaimState.POSTED
    assert_on_chain(guard, claim_id, expected, paid=False)


def test_run_once__exchange_down__claim_deferred_and_stays_pending(
    chain: Any, guard: Any, world: World
) -> None:
    expected = world.picked[0]
    claim_id = file_claim(chain, guard, world, expected)
    world.sim.set_faults(FaultConfig(error_5xx_rate=1.0))

    down = world.keeper.run_once()

    assert (down.deferred, down.decided, down.posted) == ([claim_id], [], [])
    assert ClaimStatus(guard.getClaim(claim_id).status) is ClaimStatus.PENDING
    record = world.store.claim(claim_id)
    assert (record.state, record.attempts) == (ClaimState.DEFERRED, 1)
    assert record.next_attempt_at == int(chain.blocks.head.timestamp) + 60
    assert record.last_error is not None and record.last_error.startswith("transient")

    world.sim.set_faults(FaultConfig())
    not_yet = world.keeper.run_once()  # back-off not over: not retried
    assert not_yet.decided == []

    advance(chain, 60)
    back = world.keeper.run_once()
    assert (back.decided, back.posted) == ([claim_id], [claim_id])
    assert_on_chain(guard, claim_id, expected, paid=False)


def test_run_once__credentials_refused__deferred_with_alert_not_rejected(
    chain: Any, guard: Any, world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = world.picked[0]
    claim_id = file_claim(chain, guard, world, expected)
    accounts = world.scenarios.keeper_accounts()
    accounts[expected.claim["account_ref"]]["secret"] = "f" * 64  # the exchange refuses the signature
    bad_file = tmp_path / "bad-accounts.json"
    bad_file.write_text(json.dumps(accounts))
    settings = make_settings(world.sim.url, bad_file, tmp_path / "malformed")
    world.keeper.verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), 1)

    with caplog.at_level(logging.ERROR, logger="keeper.pipeline"):
        report = world.keeper.run_once()

    assert (report.deferred, report.decided, report.posted) == ([claim_id], [], [])
    assert ClaimStatus(guard.getClaim(claim_id).status) is ClaimStatus.PENDING
    record = world.store.claim(claim_id)
    assert record.state is ClaimState.DEFERRED
    assert record.last_error is not None and record.last_error.startswith("authentication")
    assert [r.getMessage() for r in caplog.records if r.name == "keeper.pipeline"] == [
        f"ALERT claim {claim_id}: exchange refused our credentials (authentication)"
    ]
    assert "f" * 64 not in caplog.text and "f" * 64 not in (record.last_error or "")
