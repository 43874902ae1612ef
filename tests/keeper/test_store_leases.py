"""Claim leases: keepers sharing one store, each claim worked on by one keeper at a time (issue 16).

Two store objects on one database are two keepers. Every test runs on PostgreSQL, the database keepers on
several hosts share, and on SQLite (the same SQL; a SQLite store has one keeper, but nothing in the lease
SQL depends on that); the row-lock test is PostgreSQL only. A lease of 0 s has lapsed the moment it is
taken: the tests take over a lease without waiting for the clock, save the one that waits on purpose.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from support.store_backends import PostgresBackend, StoreBackend
from test_store import APPROVE, claim

from keeper.claim_ownership import LeaseConfig, Leases, lease_config
from keeper.evidence import ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.settings import KeeperSettings
from keeper.store import AppealKind, AppealRecord, ClaimRecord, ClaimState, SqlStore
from keeper.store.postgres import PostgresDatabase
from keeper.store.sqlite import SqliteDatabase

LONG = 60.0
LAPSED = 0.0
NOW = 1_000  # chain time


def ids(claims: list[ClaimRecord]) -> list[int]:
    return [c.claim_id for c in claims]


def owners(store: SqlStore, *claim_ids: int) -> list[str | None]:
    return [store.claim(i).lease_owner for i in claim_ids]


def database_now_ms(backend: StoreBackend) -> int:
    clock = PostgresDatabase.now_ms if backend.name == "postgres" else SqliteDatabase.now_ms
    return int(backend.execute(f"SELECT {clock}")[0][0])


@pytest.fixture
def keepers(store_backend: StoreBackend) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Keepers "a" and "b" on one database holding claims 1-4."""
    a, b = store_backend.open(), store_backend.open()
    a.record_claims([claim(i) for i in (1, 2, 3, 4)], cursor=10)
    yield a, b
    a.close()
    b.close()


def test_lease_due__leased_by_one_keeper__not_given_to_the_other(
    keepers: tuple[SqlStore, SqlStore], store_backend: StoreBackend
) -> None:
    a, b = keepers
    before = database_now_ms(store_backend)

    leased = a.lease_due("a", NOW, LONG, limit=10)

    after = database_now_ms(store_backend)
    assert ids(leased) == [1, 2, 3, 4]
    assert {c.lease_owner for c in leased} == {"a"}
    assert all(before + 60_000 <= c.lease_expires_at <= after + 60_000 for c in leased)
    assert b.lease_due("b", NOW, LONG, limit=10) == []
    assert b.lease_decided("b", LONG, limit=10) == []
    assert owners(b, 1, 2, 3, 4) == ["a"] * 4


def test_lease_due__limit__each_keeper_takes_its_share_lowest_ids_first(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers

    assert ids(a.lease_due("a", NOW, LONG, limit=2)) == [1, 2]
    assert ids(b.lease_due("b", NOW, LONG, limit=2)) == [3, 4]
    # A keeper's own leases are given back to it (renewed), never another's.
    assert ids(a.lease_due("a", NOW, LONG, limit=10)) == [1, 2]
    assert owners(a, 1, 2, 3, 4) == ["a", "a", "b", "b"]


def test_lease__lapsed__taken_over_by_another_keeper(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers
    assert ids(a.lease_due("a", NOW, 1.0, limit=2)) == [1, 2]
    assert ids(b.lease_due("b", NOW, LONG, limit=10)) == [3, 4]  # 1 and 2 are a's for a second

    time.sleep(1.2)  # a stopped renewing: its lease lapses

    assert ids(b.lease_due("b", NOW, LONG, limit=10)) == [1, 2, 3, 4]
    assert owners(a, 1, 2) == ["b", "b"]
    assert a.renew_leases("a", LONG, [1, 2]) == []  # a's next renewal (before posting) finds them gone
    assert a.renew_leases("a", LONG) == []


def test_renew_leases__extends_the_expiry__the_other_keeper_still_refused(
    keepers: tuple[SqlStore, SqlStore], store_backend: StoreBackend
) -> None:
    a, b = keepers
    first = a.lease_due("a", NOW, LAPSED, limit=2)
    before = database_now_ms(store_backend)

    # Lapsed but not taken: still a's, so a renews it (a takeover would have changed the owner).
    assert a.renew_leases("a", LONG) == [1, 2]

    after = database_now_ms(store_backend)
    renewed = [a.claim(1), a.claim(2)]
    assert all(before + 60_000 <= c.lease_expires_at <= after + 60_000 for c in renewed)
    assert all(c.lease_expires_at >= f.lease_expires_at + 59_000 for c, f in zip(renewed, first, strict=True))
    assert ids(b.lease_due("b", NOW, LONG, limit=10)) == [3, 4]
    assert a.renew_leases("a", LONG, [1, 3]) == [1]  # 3 is b's: not renewed, not ours
    assert owners(a, 1, 2, 3, 4) == ["a", "a", "b", "b"]


def test_renew_leases__no_claims_named__renews_nothing() -> None:
    class NoDatabase(SqlStore):
        def __init__(self) -> None:  # the early return must not need a database
            pass

    assert NoDatabase().renew_leases("a", LONG, []) == []
    NoDatabase().release_leases("a", [])


def test_lease__decided_claim__held_until_posted_then_released(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers
    assert ids(a.lease_due("a", NOW, LONG, limit=1)) == [1]

    a.save_decision(1, APPROVE, {}, evidence=None)

    held = a.claim(1)
    assert (held.state, held.lease_owner) == (ClaimState.DECIDED, "a")  # held across verify -> post
    assert b.lease_decided("b", LONG, limit=10) == []
    assert ids(a.lease_decided("a", LONG, limit=10)) == [1]

    a.set_state([1], ClaimState.POSTED)

    posted = b.claim(1)
    assert (posted.state, posted.lease_owner, posted.lease_expires_at) == (ClaimState.POSTED, None, 0)
    assert b.lease_decided("b", LONG, limit=10) == []
    assert ids(b.lease_due("b", NOW, LONG, limit=10)) == [2, 3, 4]


def test_lease__decided_by_a_keeper_that_stopped__its_verdict_posted_by_another(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers
    a.lease_due("a", NOW, LAPSED, limit=1)
    a.save_decision(1, APPROVE, {}, evidence=None)

    assert ids(b.lease_decided("b", LONG, limit=10)) == [1]

    assert owners(b, 1) == ["b"]
    stored = b.decision(1)
    assert stored is not None and stored.decision == APPROVE


def test_lease__deferred__released_and_due_again_for_any_keeper(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers
    a.lease_due("a", NOW, LONG, limit=1)

    a.defer(1, "transient: down", next_attempt_at=NOW + 60)

    deferred = b.claim(1)
    assert (deferred.state, deferred.lease_owner, deferred.lease_expires_at) == (ClaimState.DEFERRED, None, 0)
    assert ids(b.lease_due("b", NOW + 59, LONG, limit=10)) == [2, 3, 4]
    assert ids(b.lease_due("b", NOW + 60, LONG, limit=10)) == [1, 2, 3, 4]


def test_lease__sent_to_review__released_and_never_leased_again(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    a, b = keepers
    a.lease_due("a", NOW, LONG, limit=1)
    answer = RawAnswer(request="GET /x", status=200, body=b"{}", observed_at_ms=7)

    a.to_review(1, ReviewCause.AGED_OUT, "purged", [answer], now=NOW)

    assert owners(b, 1) == [None]
    assert ids(b.lease_due("b", 10**12, LONG, limit=10)) == [2, 3, 4]
    assert b.lease_decided("b", LONG, limit=10) == []


def test_release_leases__only_the_owners_own(keepers: tuple[SqlStore, SqlStore]) -> None:
    a, b = keepers
    a.lease_due("a", NOW, LONG, limit=2)
    b.lease_due("b", NOW, LONG, limit=2)

    a.release_leases("a", [1, 3])  # 3 is b's: left alone

    assert owners(a, 1, 2, 3, 4) == [None, "a", "b", "b"]
    assert ids(b.lease_due("b", NOW, LONG, limit=10)) == [1, 3, 4]


def test_record_claims__two_keepers_scanned_the_same_blocks__appeals_applied_once(
    keepers: tuple[SqlStore, SqlStore],
) -> None:
    """The cursor is shared: the keeper that records a block range applies its appeals; another keeper that
    scanned the same range from the old cursor records nothing new and applies nothing again."""
    a, b = keepers
    a.save_decision(1, APPROVE, {}, evidence=None)
    a.set_state([1], ClaimState.POSTED)
    reopened = [AppealRecord(claim_id=1, kind=AppealKind.REOPENED, block_number=12, log_index=0)]
    assert a.record_claims([claim(5)], cursor=20, appeals=reopened) == [5]
    assert a.claim(1).state is ClaimState.RECORDED
    a.save_decision(1, APPROVE, {}, evidence=None)  # decided again after the reopening

    assert b.record_claims([claim(5)], cursor=20, appeals=reopened) == []  # b read cursor 10 too

    again = b.claim(1)
    assert (again.state, again.last_error) == (ClaimState.DECIDED, None)  # not reopened a second time
    assert b.cursor() == 20


def test_lease_due__a_claim_locked_by_another_keeper__skipped_not_waited_for(pg_database_url: str) -> None:
    """PostgreSQL only: while one keeper's lease transaction holds a claim's row, another keeper's lease
    passes over it (SKIP LOCKED) at once instead of waiting."""
    backend = PostgresBackend(pg_database_url)
    store = backend.open()
    store.record_claims([claim(i) for i in (1, 2, 3)], cursor=10)
    with psycopg.connect(pg_database_url) as holder:  # a transaction, left open
        holder.execute("SELECT claim_id FROM claims WHERE claim_id = 1 FOR UPDATE")
        started = time.monotonic()

        leased = store.lease_due("b", NOW, LONG, limit=10)

        assert time.monotonic() - started < 2.0
        holder.rollback()
    assert ids(leased) == [2, 3]
    assert owners(store, 1, 2, 3) == [None, "b", "b"]
    store.close()


def _drain_at_once(
    stores: list[SqlStore], lease: Callable[[SqlStore, str], list[ClaimRecord]]
) -> dict[str, list[int]]:
    """Each store a keeper (``k0``, ``k1``, ...) in its own thread, all starting together: lease, post what
    was leased (released, never due again), until nothing is left; the claim ids each keeper took. The stores
    are closed."""
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(len(stores))

    def keeper(name: str, store: SqlStore) -> None:
        start.wait()
        mine: list[int] = []
        while leased := lease(store, name):
            mine += ids(leased)
            store.set_state(ids(leased), ClaimState.POSTED)
        taken[name] = mine

    threads = [threading.Thread(target=keeper, args=(f"k{i}", s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.close()
    return taken


def test_lease_due__many_keepers_at_once__every_claim_leased_to_exactly_one(pg_database_url: str) -> None:
    backend = PostgresBackend(pg_database_url)
    stores = [backend.open() for _ in range(4)]
    stores[0].record_claims([claim(i) for i in range(1, 41)], cursor=10)
    taken = _drain_at_once(stores, lambda store, name: store.lease_due(name, NOW, LONG, limit=3))

    every = sorted(c for mine in taken.values() for c in mine)
    assert every == list(range(1, 41))  # none lost, none worked on by two keepers


def test_leases__working__renewed_once_a_third_of_the_lease_has_passed(
    keepers: tuple[SqlStore, SqlStore], store_backend: StoreBackend
) -> None:
    a, _ = keepers
    clock = [100.0]
    leases = Leases(LeaseConfig(owner="a", seconds=30.0, batch_size=2), clock=lambda: clock[0])
    assert ids(leases.due(a, NOW)) == [1, 2]
    store_backend.execute("UPDATE claims SET lease_expires_at = 1")  # marks what a renewal overwrites

    clock[0] += 9.9
    leases.working(a)
    assert [a.claim(1).lease_expires_at, a.claim(2).lease_expires_at] == [1, 1]  # not yet

    clock[0] += 0.1
    before = database_now_ms(store_backend)
    leases.working(a)
    assert all(a.claim(i).lease_expires_at >= before + 30_000 for i in (1, 2))


def test_leases__keep__drops_the_claims_another_keeper_took_over(
    keepers: tuple[SqlStore, SqlStore], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = keepers
    leases = Leases(LeaseConfig(owner="a", seconds=LAPSED, batch_size=2))
    assert ids(leases.due(a, NOW)) == [1, 2]
    b.lease_due("b", NOW, LONG, limit=1)  # takes over claim 1

    assert leases.keep(a, [1, 2]) == [2]

    assert "claims [1]: our lease lapsed, another keeper took them over; not posting them" in caplog.messages


def test_lease_config__sqlite_store__none_the_keeper_keeps_its_shard(tmp_path: Path) -> None:
    assert lease_config(KeeperSettings(_env_file=None, database_path=tmp_path / "k.sqlite3")) is None


def test_lease_config__database_url__the_keeper_id_else_hostname_and_pid() -> None:
    url = "postgresql://keeper@db.internal:5432/lg"
    unnamed = KeeperSettings(_env_file=None, database_url=url, lease_seconds=7, lease_batch_size=3)
    named = KeeperSettings(_env_file=None, database_url=url, keeper_id="eu-1")

    assert lease_config(unnamed) == LeaseConfig(
        owner=f"{socket.gethostname()}:{os.getpid()}", seconds=7.0, batch_size=3
    )
    assert lease_config(named) == LeaseConfig(owner="eu-1", seconds=120.0, batch_size=500)


def test_lease_config__shards_set_with_a_database_url__warned_unused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = KeeperSettings(
        _env_file=None, database_url="postgresql://keeper@db/lg", keeper_id="eu-1", shard_count=2
    )

    assert lease_config(settings) == LeaseConfig(owner="eu-1")
    assert "LG_SHARD_COUNT=2 is not used with LG_DATABASE_URL: claims are leased" in caplog.messages


# --- by account (store/account_leases.py): one keeper takes an account's claims while it holds the account

X_REF, Y_REF = "0x" + "aa" * 32, "0x" + "bb" * 32


def of_account(claim_id: int, account_ref: str) -> ClaimRecord:
    return claim(claim_id).model_copy(update={"account_ref": account_ref})


@pytest.fixture
def two_accounts(store_backend: StoreBackend) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Keepers "a" and "b" on one database: claims 1 and 3 of account X, 2 and 4 of account Y."""
    a, b = store_backend.open(), store_backend.open()
    refs = {1: X_REF, 2: Y_REF, 3: X_REF, 4: Y_REF}
    a.record_claims([of_account(i, ref) for i, ref in refs.items()], cursor=10)
    yield a, b
    a.close()
    b.close()


def test_lease_due_by_account__free_accounts__oldest_claim_first_whole_accounts_up_to_the_limit(
    two_accounts: tuple[SqlStore, SqlStore],
) -> None:
    a, _ = two_accounts

    assert ids(a.lease_due_by_account("a", NOW, LONG, limit=2)) == [1, 3]  # X's claims, not 1 and 2
    assert a.account_holders() == {(1, X_REF): "a"}


def test_lease_due_by_account__account_held_by_other_keeper__skipped(
    two_accounts: tuple[SqlStore, SqlStore],
) -> None:
    a, b = two_accounts
    a.lease_due_by_account("a", NOW, LONG, limit=2)
    a.release_leases("a", [1, 3])  # waiting for budget: the claims are free, the account is still a's

    assert ids(b.lease_due_by_account("b", NOW, LONG, limit=10)) == [2, 4]
    assert ids(b.lease_due_by_account("b", NOW, LONG, limit=10)) == [2, 4]  # renewed, 1 and 3 left alone
    assert ids(a.lease_due_by_account("a", NOW, LONG, limit=10)) == [1, 3]
    assert a.account_holders() == {(1, X_REF): "a", (1, Y_REF): "b"}


def test_lease_due_by_account__holder_stopped_renewing__its_account_taken_over(
    two_accounts: tuple[SqlStore, SqlStore],
) -> None:
    a, b = two_accounts
    a.lease_due_by_account("a", NOW, LAPSED, limit=2)  # a's leases, of X and its claims, lapse at once

    assert ids(b.lease_due_by_account("b", NOW, LONG, limit=10)) == [1, 2, 3, 4]
    assert b.account_holders() == {(1, X_REF): "b", (1, Y_REF): "b"}


def test_lease_due_by_account__keeper_without_work__takes_over_one_account_of_a_keeper_holding_two(
    two_accounts: tuple[SqlStore, SqlStore],
) -> None:
    a, b = two_accounts
    assert ids(a.lease_due_by_account("a", NOW, LONG, limit=10)) == [1, 2, 3, 4]
    a.release_leases("a", [2, 3, 4])  # a's budget covers claim 1 only this pass

    assert ids(b.lease_due_by_account("b", NOW, LONG, limit=10)) == [2, 4]  # Y: 2 free claims against X's 1
    assert ids(a.lease_due_by_account("a", NOW, LONG, limit=10)) == [1, 3]  # a keeps X only
    assert a.account_holders() == {(1, X_REF): "a", (1, Y_REF): "b"}


def test_lease_due_by_account__every_account_held__the_busiest_ones_free_claims_stolen_its_lease_left(
    store_backend: StoreBackend,
) -> None:
    a, b = store_backend.open(), store_backend.open()
    a.record_claims([of_account(i, X_REF) for i in (1, 2, 3)], cursor=10)
    a.lease_due_by_account("a", NOW, LONG, limit=10)
    a.release_leases("a", [2, 3])  # a works on claim 1 alone; nothing else is due

    assert ids(b.lease_due_by_account("b", NOW, LONG, limit=10)) == [2, 3]  # b would idle otherwise
    assert b.account_holders() == {(1, X_REF): "a"}
    assert owners(b, 1, 2, 3) == ["a", "b", "b"]
    a.close()
    b.close()


def test_lease_due_by_account__account_without_due_claims__given_up(
    two_accounts: tuple[SqlStore, SqlStore],
) -> None:
    a, b = two_accounts
    a.lease_due_by_account("a", NOW, LONG, limit=2)
    a.set_state([1, 3], ClaimState.POSTED)  # X is done

    assert ids(a.lease_due_by_account("a", NOW, LONG, limit=10)) == [2, 4]
    assert a.account_holders() == {(1, Y_REF): "a"}
    b.set_state([2, 4], ClaimState.POSTED)
    assert a.lease_due_by_account("a", NOW, LONG, limit=10) == []
    assert a.account_holders() == {}


def test_leases__due_by_account__working_renews_the_account_lease_too(
    two_accounts: tuple[SqlStore, SqlStore], store_backend: StoreBackend
) -> None:
    a, _ = two_accounts
    clock = [100.0]
    leases = Leases(LeaseConfig(owner="a", seconds=30.0, batch_size=2), clock=lambda: clock[0])
    assert ids(leases.due(a, NOW)) == [1, 3]
    store_backend.execute("UPDATE account_leases SET expires_at = 1")  # marks what a renewal overwrites

    clock[0] += 10.0
    before = database_now_ms(store_backend)
    leases.working(a)

    [(expires_at,)] = store_backend.execute("SELECT expires_at FROM account_leases")
    assert expires_at >= before + 30_000


def test_lease_due_by_account__many_keepers_at_once__every_claim_leased_to_exactly_one(
    pg_database_url: str,
) -> None:
    """PostgreSQL only: four keepers draining 40 claims of five accounts, each claim posted by the keeper
    that leased it, never two."""
    backend = PostgresBackend(pg_database_url)
    stores = [backend.open() for _ in range(4)]
    stores[0].record_claims([of_account(i, f"0x{i % 5:064x}") for i in range(1, 41)], cursor=10)
    taken = _drain_at_once(stores, lambda store, name: store.lease_due_by_account(name, NOW, LONG, limit=3))

    every = sorted(c for mine in taken.values() for c in mine)
    assert every == list(range(1, 41))  # none lost, none worked on by two keepers
