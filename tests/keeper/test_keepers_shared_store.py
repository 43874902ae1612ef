"""Keepers on several hosts sharing one PostgreSQL store (issue 16): three `python -m keeper run` processes,
each with its own validator, on one database and one chain (anvil) with the simulated exchanges; claims are
leased to one keeper at a time (keeper/claim_ownership.py). One keeper is SIGKILLed while it holds leases
of claims it has not posted: another keeper takes them over once the lease lapses, and every claim is
decided on chain exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from support.keeper_world import CHALLENGE_PERIOD, KeeperWorld, wait_until
from support.store_backends import PostgresBackend
from test_daemon_process import assert_exactly_once, decided, events_per_claim, verdict_claims

from keeper.daemon import EXIT_OK
from keeper.sim.faults import FaultConfig
from keeper.store import ClaimRecord, ClaimState
from keeper.store.postgres import PostgresDatabase, PostgresStore
from operator_toolkit.keeper_process import KeeperProcess

LEASE_SECONDS = 5
KEEPERS = ("k0", "k1", "k2")
VICTIM = "k0"
UNPOSTED = {ClaimState.RECORDED, ClaimState.DEFERRED, ClaimState.DECIDED}


def database_now_ms(backend: PostgresBackend) -> int:
    return int(backend.execute(f"SELECT {PostgresDatabase.now_ms}")[0][0])


def all_claims(store: PostgresStore) -> list[ClaimRecord]:
    return store.claims_in_state(*ClaimState)


def unposted_leases_of(store: PostgresStore, owner: str) -> list[ClaimRecord]:
    return [c for c in all_claims(store) if c.lease_owner == owner and c.state in UNPOSTED]


def test_three_keepers__one_postgres_store__one_sigkilled_mid_batch__its_leases_taken_over_each_claim_once(
    keeper_world: Any, keystore_validator: Any, chain: Any, tmp_path: Path, pg_database_url: str
) -> None:
    world: KeeperWorld = keeper_world(120)
    # Each exchange read takes a while: a keeper holds its leased claims long enough to be killed mid-batch.
    world.sim.set_faults(FaultConfig(latency_ms=150))
    picked = verdict_claims(world, 12)
    world.whitelist(picked)
    validators = dict(zip(KEEPERS, (keystore_validator() for _ in KEEPERS), strict=True))
    backend = PostgresBackend(pg_database_url)
    store = PostgresStore(pg_database_url)  # the test's view of the shared store (and its schema, made once)
    start_block = int(chain.blocks.head.number)
    keepers = {
        name: KeeperProcess(
            world.keeper_env(
                alias,
                name,
                database_url=pg_database_url,
                keeper_id=name,
                lease_seconds=LEASE_SECONDS,
                lease_batch_size=2,
                verify_batch_size=2,
                payout_batch_size=2,
                verify_workers=1,
            ),
            alias,
            tmp_path / f"{name}.log",
        )
        for name, (alias, _) in validators.items()
    }
    try:
        for keeper in keepers.values():
            keeper.start()
        for keeper in keepers.values():
            keeper.wait_for_message("keeper loop started", 90)
        for expected in picked:  # filed while all three run: they share the work as it comes
            world.file(expected)

        deadline = time.monotonic() + 60
        while not (held := unposted_leases_of(store, VICTIM)):
            assert time.monotonic() < deadline, f"{VICTIM} never held a lease of an unposted claim"
            time.sleep(0.02)
        keepers[VICTIM].kill()
        killed_ms = database_now_ms(backend)
        # What it held when it died (a lease it took between the look and the kill counts too).
        held = unposted_leases_of(store, VICTIM) or held
        lapses_ms = max(c.lease_expires_at for c in held)
        held_ids = {c.claim_id for c in held}

        taken_at: dict[int, int] = {}
        while len(taken_at) < len(held_ids):
            assert time.monotonic() < deadline + 60, f"not taken over: {held_ids - set(taken_at)}"
            for c in all_claims(store):
                if c.claim_id in held_ids and c.claim_id not in taken_at and c.lease_owner != VICTIM:
                    taken_at[c.claim_id] = database_now_ms(backend)
            time.sleep(0.05)

        wait_until(lambda: decided(world), 90, "every claim decided")
        world.advance(CHALLENGE_PERIOD)
        wait_until(world.settled, 90, "every approval paid")
        assert [keepers[name].terminate() for name in KEEPERS if name != VICTIM] == [EXIT_OK, EXIT_OK]
    finally:
        for keeper in keepers.values():
            if keeper.running:
                keeper.kill()

    # The victim's leases lapsed no later than a lease after its death, nobody took one before it lapsed,
    # and the survivors took them within a couple of their passes after that.
    assert lapses_ms - killed_ms <= LEASE_SECONDS * 1000
    assert all(lapses_ms <= at <= lapses_ms + 5_000 for at in taken_at.values()), (lapses_ms, taken_at)
    assert_exactly_once(world)
    assert events_per_claim(world.guard, "VerificationSkipped") == Counter()  # no verdict even tried twice
    head = int(chain.blocks.head.number)
    verdicts_by = {
        int(log.claimId): str(log.validator) for log in world.guard.ClaimVerified.range(start_block, head + 1)
    }
    survivors = {str(account.address) for name, (_, account) in validators.items() if name != VICTIM}
    # A claim the victim had not decided cannot carry its verdict (one decided it may have sent as it died).
    undecided = [c.claim_id for c in held if c.state is not ClaimState.DECIDED]
    assert {verdicts_by[claim_id] for claim_id in undecided} <= survivors
    assert {c.lease_owner for c in all_claims(store)} == {None}  # every lease released
    store.close()
