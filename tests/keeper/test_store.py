"""The store on both databases: idempotent claim recording, the cursor, decisions, transactions, migrations.

Every test that takes ``store`` or ``store_backend`` runs on SQLite and on a real PostgreSQL server (see
``store_backend`` in conftest.py); the few marked "SQLite only" are about the file itself.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.store_backends import PostgresBackend, StoreBackend

from keeper.evidence import ClaimInput, ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.interface import ReasonCode
from keeper.policy import Decision, PolicyParams
from keeper.settings import KeeperSettings
from keeper.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    AppealKind,
    AppealRecord,
    ClaimRecord,
    ClaimState,
    DecisionToSave,
    SqliteStore,
    SqlStore,
    StoredTransaction,
    StoreError,
    TxKind,
    UnknownClaimError,
    open_store,
)
from keeper.store.migrations import POSTGRES, SQLITE, render
from keeper.store.postgres import PostgresStore
from keeper.store.url import redact_url, scrub

HASH = "0x" + "ab" * 32
APPROVE = Decision(approved=True, payout=5, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)
POLICY = PolicyParams(
    coverage_ratio=Decimal("0.8"),
    claim_window_seconds=604_800,
    max_payout_per_claim=10**10,
    policy_version="p1",
)


def answer(body: bytes, status: int = 200) -> RawAnswer:
    return RawAnswer(
        request="GET /api/v5/trade/order?instId=X&ordId=1", status=status, body=body, observed_at_ms=7
    )


def claim_input(claim_id: int) -> ClaimInput:
    return ClaimInput(
        claim_id=claim_id,
        user="0x" + "11" * 20,
        exchange=1,
        account_ref="0x" + "cd" * 32,
        order_id=f"order-{claim_id}",
        instrument="BTC-USDT-SWAP",
        claimed_loss=100,
        submitted_at=1_000,
        coverage_start=0,
        coverage_end=2_000,
        remaining_coverage=100,
    )


def claim(claim_id: int, block: int = 10) -> ClaimRecord:
    return ClaimRecord(
        claim_id=claim_id,
        user="0x" + "11" * 20,
        exchange=1,
        account_ref="0x" + "cd" * 32,
        order_id=f"order-{claim_id}",
        instrument="BTC-USDT-SWAP",
        claimed_loss=2**200,  # uint256-sized amounts must survive the round trip
        block_number=block,
        log_index=claim_id,
    )


@pytest.fixture
def store(store_backend: StoreBackend) -> Iterator[SqlStore]:
    opened = store_backend.open()
    yield opened
    opened.close()


def test_record_claims__same_claim_twice__is_a_noop(store: SqlStore) -> None:
    assert store.record_claims([claim(1), claim(2)], cursor=10) == [1, 2]
    store.defer(1, "transient: down", next_attempt_at=500)

    assert store.record_claims([claim(1), claim(2)], cursor=10) == []

    assert store.claim(1).state is ClaimState.DEFERRED  # the re-recording did not reset its state
    assert store.claim(1).attempts == 1
    assert store.claim(2) == claim(2)
    assert store.cursor() == 10


def test_cursor__never_moves_backwards(store: SqlStore) -> None:
    assert store.cursor() is None
    store.record_claims([], cursor=20)
    store.record_claims([], cursor=15)
    assert store.cursor() == 20


def test_record_claims__failure__keeps_cursor_and_claims_unchanged(
    store: SqlStore, store_backend: StoreBackend
) -> None:
    store.record_claims([claim(1)], cursor=10)
    bad = claim(2).model_copy(update={"exchange": None})  # NOT NULL violation inside the transaction

    with pytest.raises(store_backend.integrity_error):
        store.record_claims([claim(3), bad], cursor=30)

    assert store.cursor() == 10
    with pytest.raises(UnknownClaimError) as info:
        store.claim(3)
    assert info.value.claim_id == 3


def test_due_for_verification__respects_next_attempt_at(store: SqlStore) -> None:
    store.record_claims([claim(1), claim(2), claim(3)], cursor=10)
    store.defer(2, "transient", next_attempt_at=100)
    store.defer(3, "transient", next_attempt_at=200)

    assert [c.claim_id for c in store.due_for_verification(now=150)] == [1, 2]
    assert [c.claim_id for c in store.due_for_verification(now=200)] == [1, 2, 3]


def test_due_for_verification__limits__capped_exchange_first_then_the_rest_lowest_ids(
    store: SqlStore,
) -> None:
    # Exchange 1 (capped at 2) and exchange 2 alternate: 1, 3, 5, 7 are of 1; 2, 4, 6, 8 of 2.
    store.record_claims(
        [claim(i).model_copy(update={"exchange": 1 if i % 2 else 2}) for i in range(1, 9)], cursor=10
    )
    store.defer(3, "transient", next_attempt_at=100)  # not due at 50: the cap skips to 5

    assert [c.claim_id for c in store.due_for_verification(now=50, per_exchange={1: 2})] == [1, 2, 4, 5, 6, 8]
    assert [c.claim_id for c in store.due_for_verification(now=50, limit=4, per_exchange={1: 2})] == [
        1,
        2,
        4,
        5,
    ]
    assert [c.claim_id for c in store.due_for_verification(now=50, limit=1, per_exchange={1: 2})] == [1]
    assert [c.claim_id for c in store.due_for_verification(now=50, limit=3)] == [1, 2, 4]
    assert store.due_for_verification(now=50, per_exchange={1: 0, 2: 0}) == []
    assert store.due_for_verification(now=50, limit=0) == []


def test_lease_due__per_exchange__leases_only_what_the_cap_allows(store: SqlStore) -> None:
    store.record_claims(
        [claim(i).model_copy(update={"exchange": 1 if i % 2 else 2}) for i in range(1, 9)], cursor=10
    )

    leased = store.lease_due("a", now=50, seconds=60, limit=4, per_exchange={1: 1})

    assert [c.claim_id for c in leased] == [1, 2, 4, 6]
    assert [c.claim_id for c in store.claims_in_state(ClaimState.RECORDED) if c.lease_owner == "a"] == [
        1,
        2,
        4,
        6,
    ]
    # Another keeper gets the next of each: 3 of the capped exchange, 8 of the other.
    assert [c.claim_id for c in store.lease_due("b", now=50, seconds=60, limit=2, per_exchange={1: 1})] == [
        3,
        8,
    ]


def test_awaiting_payout__now__only_claims_whose_hold_has_passed(store: SqlStore) -> None:
    store.record_claims([claim(i) for i in range(1, 5)], cursor=10)
    store.set_state([1, 2, 3, 4], ClaimState.POSTED)
    store.payout_failed(2, "payout_failed: amount=5", retry_at=500)

    store.hold_payouts({1: 300, 2: 400, 3: 100})  # 2's later back-off is not moved earlier

    assert [(c.claim_id, c.payout_retry_at) for c in store.awaiting_payout(now=99)] == [(4, 0)]
    assert [c.claim_id for c in store.awaiting_payout(now=300)] == [1, 3, 4]
    assert [c.claim_id for c in store.awaiting_payout(now=500)] == [1, 2, 3, 4]
    assert [c.claim_id for c in store.awaiting_payout()] == [1, 2, 3, 4]  # no time: every one
    store.record_claims(
        [],
        cursor=11,
        appeals=[AppealRecord(claim_id=1, kind=AppealKind.REOPENED, block_number=11, log_index=0)],
    )
    assert store.claim(1).payout_retry_at == 0  # reopened: decided and held anew


def test_save_decision__stores_verdict_and_marks_decided(store: SqlStore) -> None:
    store.record_claims([claim(1)], cursor=10)
    store.defer(1, "transient", next_attempt_at=100)
    decision = Decision(approved=True, payout=2**100, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)

    store.save_decision(1, decision, {"claim": {"claim_id": 1}}, evidence=None)

    stored = store.decision(1)
    assert stored is not None
    assert stored.decision == decision
    assert stored.canonical_record == {"claim": {"claim_id": 1}}
    assert store.evidence(1) is None
    record = store.claim(1)
    assert (record.state, record.attempts, record.last_error) == (ClaimState.DECIDED, 2, None)
    assert store.due_for_verification(now=10**9) == []


def test_save_decisions__a_group__stored_in_one_transaction(store: SqlStore) -> None:
    store.record_claims([claim(1), claim(2)], cursor=10)
    approve = Decision(approved=True, payout=5, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)
    reject = Decision(approved=False, payout=0, reason_code=ReasonCode.NOT_LIQUIDATED, evidence_hash=HASH)

    store.save_decisions(
        [
            DecisionToSave(
                claim_id=1, decision=approve, record={"n": 1}, evidence=None, answers=[answer(b"a")]
            ),
            DecisionToSave(claim_id=2, decision=reject, record={"n": 2}, evidence=None),
        ]
    )

    assert [store.decision(i).decision for i in (1, 2)] == [approve, reject]  # type: ignore[union-attr]
    assert [a.body for a in store.answers(1)] == [b"a"]
    assert [c.state for c in (store.claim(1), store.claim(2))] == [ClaimState.DECIDED] * 2


def test_save_decisions__one_item_fails__none_of_the_group_is_stored(
    store: SqlStore, store_backend: StoreBackend
) -> None:
    store.record_claims([claim(1)], cursor=10)
    approve = Decision(approved=True, payout=5, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)
    group = [
        DecisionToSave(claim_id=1, decision=approve, record={}, evidence=None),
        DecisionToSave(claim_id=99, decision=approve, record={}, evidence=None),  # never recorded
    ]

    with pytest.raises(store_backend.integrity_error):
        store.save_decisions(group)

    assert store.decision(1) is None
    assert store.claim(1).state is ClaimState.RECORDED


def test_awaiting_payout__posted_approvals_and_foreign_verdicts_only(store: SqlStore) -> None:
    store.record_claims([claim(i) for i in range(1, 6)], cursor=10)
    approve = Decision(approved=True, payout=5, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)
    reject = Decision(approved=False, payout=0, reason_code=ReasonCode.NO_LOSS, evidence_hash=HASH)
    store.save_decision(1, approve, {}, evidence=None)
    store.save_decision(2, reject, {}, evidence=None)
    store.save_decision(3, approve, {}, evidence=None)
    store.set_state([1, 2, 4], ClaimState.POSTED)  # 4: decided on chain by another keeper, no local verdict
    store.set_state([5], ClaimState.PAID)

    assert [c.claim_id for c in store.awaiting_payout()] == [1, 4]  # 3 is decided but not yet posted
    assert store.count_by_state() == {
        ClaimState.RECORDED: 0,
        ClaimState.DEFERRED: 0,
        ClaimState.DECIDED: 1,
        ClaimState.POSTED: 3,
        ClaimState.PAID: 1,
        ClaimState.VETOED: 0,
        ClaimState.CANCELLED: 0,
        ClaimState.MANUAL_REVIEW: 0,
    }


def appeal(claim_id: int, kind: AppealKind, block: int, log_index: int = 0) -> AppealRecord:
    return AppealRecord(claim_id=claim_id, kind=kind, block_number=block, log_index=log_index)


def test_record_claims__appeals__applied_in_chain_order_with_the_cursor(store: SqlStore) -> None:
    approve = Decision(approved=True, payout=5, reason_code=ReasonCode.APPROVED, evidence_hash=HASH)
    store.record_claims([claim(1), claim(2), claim(3)], cursor=10)
    for claim_id in (1, 2, 3):
        store.save_decision(claim_id, approve, {}, evidence=None)
    store.set_state([1, 2, 3], ClaimState.POSTED)
    store.payout_failed(3, "payout_failed: amount=5", retry_at=900)

    appeals = [
        appeal(3, AppealKind.REOPENED, block=12),  # listed out of order: applied after its cancel at 11
        appeal(3, AppealKind.CANCELLED, block=11),
        appeal(1, AppealKind.VETOED, block=11, log_index=4),
        appeal(2, AppealKind.CANCELLED, block=11, log_index=5),
        appeal(99, AppealKind.REOPENED, block=12),  # filed before our start block: nothing to change
    ]
    assert store.record_claims([], cursor=20, appeals=appeals) == []

    assert store.cursor() == 20
    assert [store.claim(i).state for i in (1, 2)] == [ClaimState.VETOED, ClaimState.CANCELLED]
    reopened = store.claim(3)
    assert (reopened.state, reopened.attempts, reopened.next_attempt_at, reopened.last_error) == (
        ClaimState.RECORDED,
        0,
        0,
        "reopened on chain",
    )
    assert (reopened.payout_failures, reopened.payout_retry_at) == (0, 0)
    assert [c.claim_id for c in store.due_for_verification(now=0)] == [3]
    assert store.awaiting_payout() == []


def test_record_claims__appeal_fails__nothing_applied_and_cursor_kept(
    store: SqlStore, store_backend: StoreBackend
) -> None:
    store.record_claims([claim(1)], cursor=10)
    bad = claim(2).model_copy(update={"user": None})  # NOT NULL violation inside the transaction

    with pytest.raises(store_backend.integrity_error):
        store.record_claims([bad], cursor=30, appeals=[appeal(1, AppealKind.VETOED, block=20)])

    assert store.cursor() == 10
    assert store.claim(1).state is ClaimState.RECORDED


def test_payout_failed__counts_refusals_not_waits(store: SqlStore) -> None:
    store.record_claims([claim(1)], cursor=10)
    store.payout_failed(1, "payout_failed: amount=5", retry_at=100)
    store.payout_failed(1, "payout_failed: amount=5", retry_at=200)
    store.payout_failed(1, "payout_skipped: DAILY_PAYOUT_LIMIT", retry_at=300, count=False)

    record = store.claim(1)
    assert (record.payout_failures, record.payout_retry_at, record.last_error) == (
        2,
        300,
        "payout_skipped: DAILY_PAYOUT_LIMIT",
    )


def test_migrations__version_1_database__upgraded_with_payout_back_off_columns(
    store_backend: StoreBackend,
) -> None:
    old = store_backend.open(migrations=MIGRATIONS[:1])
    old.record_claims([claim(1)], cursor=5)
    old.close()

    upgraded = store_backend.open()

    assert upgraded.schema_version == SCHEMA_VERSION == 6
    assert upgraded.claim(1) == claim(1)  # payout_failures 0, payout_retry_at 0


def test_migrations__version_2_database__upgraded_with_review_columns_and_answers(
    store_backend: StoreBackend,
) -> None:
    old = store_backend.open(migrations=MIGRATIONS[:2])
    old.record_claims([claim(1)], cursor=5)
    old.close()
    # A decision as a schema-2 keeper wrote it.
    store_backend.execute("INSERT INTO decisions VALUES (1, 1, '5', 0, ?, '{}')", (HASH,))
    store_backend.execute("UPDATE claims SET state = 'decided'")

    upgraded = store_backend.open()

    assert upgraded.schema_version == SCHEMA_VERSION
    record = upgraded.claim(1)
    assert (record.state, record.review_cause, record.review_entered_at) == (ClaimState.DECIDED, None, None)
    stored = upgraded.decision(1)
    assert stored is not None and stored.policy is None  # decided before the policy was stored
    assert upgraded.answers(1) == []


# --- the manual-review desk and the raw answers


def test_to_review__waits_for_a_person__never_due_for_verification(store: SqlStore) -> None:
    """Before: a claim needing a person was deferred and re-polled every hour until its order aged out."""
    store.record_claims([claim(1), claim(2)], cursor=10)
    judged = claim_input(1)

    store.to_review(
        1, ReviewCause.UNKNOWN_ACCOUNT, "no credentials", [], now=1_000, claim=judged, earliest_ms=400_000
    )

    record = store.claim(1)
    assert (record.state, record.review_cause, record.review_detail, record.review_entered_at) == (
        ClaimState.MANUAL_REVIEW,
        ReviewCause.UNKNOWN_ACCOUNT,
        "no credentials",
        1_000,
    )
    assert (record.review_claim, record.review_earliest_ms, record.attempts) == (judged, 400_000, 1)
    assert [c.claim_id for c in store.due_for_verification(now=10**12)] == [2]
    assert [c.claim_id for c in store.in_review()] == [1]
    assert store.count_by_state()[ClaimState.MANUAL_REVIEW] == 1


def test_to_review__raw_answers_kept_byte_for_byte_and_compressed(
    store: SqlStore, store_backend: StoreBackend
) -> None:
    store.record_claims([claim(1)], cursor=10)
    answers = [answer(b'{"code":"51603","data":[]}' * 40), answer(b"\x00\xffnot json", status=502)]

    store.to_review(1, ReviewCause.AGED_OUT, "older than 3 months", answers, now=5)

    assert store.answers(1) == answers
    rows = store_backend.execute("SELECT seq, sha256, length(body) FROM answers ORDER BY seq")
    assert [(seq, digest) for seq, digest, _ in rows] == [(0, answers[0].sha256), (1, answers[1].sha256)]
    assert rows[0][2] < len(answers[0].body)  # zlib, not the raw bytes


def test_save_decision__answers_replace_the_set_only_when_given(store: SqlStore) -> None:
    store.record_claims([claim(1)], cursor=10)
    first, second = [answer(b"first")], [answer(b"second"), answer(b"third")]
    store.save_decision(1, APPROVE, {}, evidence=None, answers=first, policy=POLICY)
    store.save_decision(1, APPROVE, {}, evidence=None)  # a person's decision on the stored answers
    assert store.answers(1) == first

    store.save_decision(1, APPROVE, {}, evidence=None, answers=second)  # re-verified (e.g. after a reopen)

    assert store.answers(1) == second
    stored = store.decision(1)
    assert stored is not None and stored.policy is None
    store.save_decision(1, APPROVE, {}, evidence=None, answers=second, policy=POLICY)
    again = store.decision(1)
    assert again is not None and again.policy == POLICY


def test_answers__stored_body_changed__store_error(store: SqlStore, store_backend: StoreBackend) -> None:
    store.record_claims([claim(1)], cursor=10)
    store.to_review(1, ReviewCause.MALFORMED_RESPONSE, "bad", [answer(b"{}")], now=5)
    store_backend.execute("UPDATE answers SET body = ?", (zlib.compress(b"[]"),))

    with pytest.raises(StoreError, match="claim 1: stored answer 0 does not match its sha256"):
        store.answers(1)


def test_to_review__unknown_claim__raises(store: SqlStore) -> None:
    with pytest.raises(UnknownClaimError):
        store.to_review(7, ReviewCause.AGED_OUT, "x", [], now=1)


def test_record_claims__reopened_after_review__verified_again(store: SqlStore) -> None:
    store.record_claims([claim(1)], cursor=10)
    store.to_review(1, ReviewCause.AGED_OUT, "x", [answer(b"{}")], now=1)

    store.record_claims([], cursor=11, appeals=[appeal(1, AppealKind.REOPENED, block=11)])

    assert store.claim(1).state is ClaimState.RECORDED
    assert [c.claim_id for c in store.due_for_verification(now=0)] == [1]


def test_transactions__round_trip_in_order(store: SqlStore) -> None:
    first = StoredTransaction(
        tx_hash="0x01", kind=TxKind.VERIFY, claim_ids=[1, 2], status="confirmed", gas_used=7
    )
    second = StoredTransaction(tx_hash="0x02", kind=TxKind.PAYOUT, claim_ids=[1], status="confirmed")
    store.record_transaction(first)
    store.record_transaction(second)
    assert store.transactions() == [first, second]


def test_open__sqlite_file__wal_and_user_version(tmp_path: Path) -> None:
    """SQLite only: the file's journal mode and ``PRAGMA user_version``."""
    path = tmp_path / "k.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)


def test_open__empty_database__migrated_to_the_schema_version(store_backend: StoreBackend) -> None:
    store_backend.open().close()

    assert store_backend.schema_version() == SCHEMA_VERSION
    assert {"claims", "evidence", "decisions", "answers", "transactions", "cursor"} <= store_backend.tables()


def test_migrations__applied_once_and_in_order(store_backend: StoreBackend) -> None:
    first = store_backend.open()
    first.record_claims([claim(1)], cursor=5)
    first.close()
    extra = "ALTER TABLE claims ADD COLUMN note TEXT; CREATE TABLE marker (id INTEGER)"

    reopened = store_backend.open(migrations=(*MIGRATIONS, extra))

    assert reopened.schema_version == len(MIGRATIONS) + 1
    assert reopened.claim(1) == claim(1)  # data kept across the upgrade
    reopened.close()
    again = store_backend.open(
        migrations=(*MIGRATIONS, extra)
    )  # re-running would fail on ALTER if re-applied
    assert again.schema_version == len(MIGRATIONS) + 1
    again.close()


def test_migrations__failing_migration__rolls_back(store_backend: StoreBackend) -> None:
    store_backend.open().close()
    broken = "CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table"

    with pytest.raises(store_backend.missing_table_error):
        store_backend.open(migrations=(*MIGRATIONS, broken))

    assert store_backend.schema_version() == len(MIGRATIONS)
    assert "half" not in store_backend.tables()


def test_open__newer_schema__refused(store_backend: StoreBackend) -> None:
    store_backend.open(migrations=(*MIGRATIONS, "CREATE TABLE later (id INTEGER)")).close()
    with pytest.raises(StoreError, match="newer than this keeper"):
        store_backend.open()


# --- one schema for both databases


# The released migrations as SQLite applied them (sha256 of the text): the files in use were made by these.
RELEASED_SQLITE_MIGRATIONS = (
    "26c8cbd43cae68d7434dfce031a77881d431611620c300a7b0af53fcd4e14e40",
    "7f9fe19522a61f7f3438b822fd2ea122ff983e7c5c493b00bd3d84fe99731414",
    "9b112b6b76978f651d41f8e23d3cca05776fcc8c3a63816b492c4f36af300176",
    "c5ae9d56c4050fb6ac858dc6010a48c839c7bb6b3d1366e2e3436ee9b7b001a7",
)


def test_migrations__sqlite_rendering__the_released_text_byte_for_byte() -> None:
    rendered = [hashlib.sha256(render(m, SQLITE).encode()).hexdigest() for m in MIGRATIONS]

    assert rendered[: len(RELEASED_SQLITE_MIGRATIONS)] == list(RELEASED_SQLITE_MIGRATIONS)


def test_migrations__postgres_rendering__64_bit_ids_bytea_and_a_quoted_user() -> None:
    first, _, third, fourth, fifth, sixth = (render(m, POSTGRES) for m in MIGRATIONS)

    assert "claim_id BIGINT PRIMARY KEY" in first and "INTEGER" not in first
    assert '"user" TEXT NOT NULL' in first
    assert "rowid BIGINT GENERATED ALWAYS AS IDENTITY" in first  # transactions keep insertion order
    assert "body BYTEA NOT NULL" in third and "observed_at_ms BIGINT" in third
    assert "lease_expires_at BIGINT NOT NULL DEFAULT 0" in fourth  # unix ms
    assert "expires_at BIGINT NOT NULL" in fifth  # account leases, unix ms
    assert "CREATE INDEX claims_payout ON claims(state, payout_retry_at)" in sixth
    assert "{" not in first + third + fourth + fifth + sixth  # every placeholder filled


def test_awaiting_payout__due_now__found_through_the_payout_index_not_a_scan(tmp_path: Path) -> None:
    """Before migration 6 SQLite walked every claim of the posted state to find the few payable ones (14 ms a
    pass at 10,000 claims in the crash-day burst)."""
    SqliteStore(tmp_path / "keeper.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "keeper.sqlite3")

    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT c.claim_id, c.payout_retry_at FROM claims c LEFT JOIN decisions d"
        " ON d.claim_id = c.claim_id WHERE c.state = ? AND (d.approved IS NULL OR d.approved = 1)"
        " AND c.payout_retry_at <= ? ORDER BY c.claim_id",
        ("posted", 1_800_000_000),
    ).fetchall()
    conn.close()

    assert any("INDEX claims_payout (state=? AND payout_retry_at<?)" in str(row[-1]) for row in plan), plan


def test_record_claims__largest_signed_64_bit_claim_id__round_trips(store: SqlStore) -> None:
    big = claim(2**63 - 1)

    assert store.record_claims([big], cursor=1) == [2**63 - 1]
    assert store.claim(2**63 - 1) == big


def test_claims_in_state__no_states__none(store: SqlStore) -> None:
    store.record_claims([claim(1)], cursor=10)
    assert store.claims_in_state() == []


def test_record_transaction__same_hash_again__replaced_and_listed_last(store: SqlStore) -> None:
    sent = StoredTransaction(tx_hash="0x01", kind=TxKind.VERIFY, claim_ids=[1], status="sent")
    other = StoredTransaction(tx_hash="0x02", kind=TxKind.PAYOUT, claim_ids=[2], status="confirmed")
    store.record_transaction(sent)
    store.record_transaction(other)

    confirmed = sent.model_copy(update={"status": "confirmed", "gas_used": 9})
    store.record_transaction(confirmed)

    assert store.transactions() == [other, confirmed]


def test_open__two_keepers_at_once__each_migration_applied_once(store_backend: StoreBackend) -> None:
    """Before: SQLite read the version outside the lock, so two keepers starting on an empty database
    both applied migration 1 and one failed on ``CREATE TABLE claims``."""
    opened: list[SqlStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(store_backend.open())
        except BaseException as exc:
            errors.append(exc)

    with store_backend.hold_migration_lock() as wait_for_waiters:
        threads = [threading.Thread(target=open_one) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for_waiters(2)  # both have read version 0 and wait to migrate
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert [s.schema_version for s in opened] == [SCHEMA_VERSION] * 2
    assert store_backend.schema_version() == SCHEMA_VERSION
    opened[0].record_claims([claim(1)], cursor=1)
    assert opened[1].claim(1) == claim(1)
    for s in opened:
        s.close()


def test_open__postgres__version_in_the_one_row_schema_version_table(pg_database_url: str) -> None:
    """PostgreSQL only: the version SQLite keeps in ``PRAGMA user_version``."""
    backend = PostgresBackend(pg_database_url)
    backend.open(migrations=MIGRATIONS[:2]).close()
    assert backend.execute("SELECT id, version FROM schema_version") == [(1, 2)]

    backend.open().close()

    assert backend.execute("SELECT id, version FROM schema_version") == [(1, SCHEMA_VERSION)]


# --- choosing the store, and the password


def test_open_store__no_database_url__sqlite_at_database_path(tmp_path: Path) -> None:
    settings = KeeperSettings(_env_file=None, database_path=tmp_path / "k.sqlite3", database_url="")

    store = open_store(settings)

    assert isinstance(store, SqliteStore) and store.path == tmp_path / "k.sqlite3"
    store.close()


def test_open_store__database_url__postgres_shown_without_its_password(pg_database_url: str) -> None:
    # The test server trusts 127.0.0.1: the password is never asked for, only carried by the URL.
    parts = urlsplit(pg_database_url)
    url = parts._replace(netloc=f"postgres:hunter2@{parts.hostname}:{parts.port}").geturl()
    settings = KeeperSettings(_env_file=None, database_url=url)

    store = open_store(settings)

    assert isinstance(store, PostgresStore)
    assert store.schema_version == SCHEMA_VERSION
    assert (
        repr(store) == f"PostgresStore(postgresql://postgres:***@{parts.hostname}:{parts.port}{parts.path})"
    )
    assert "hunter2" not in repr(store) + repr(settings) + json.dumps(settings.redacted(), default=str)
    store.close()


def test_postgres_store__unreachable__store_error_without_the_password() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://keeper:s3cr%25et@127.0.0.1:{port}/lg"

    with pytest.raises(StoreError) as caught:
        PostgresStore(url, connect_timeout_seconds=1)

    message = str(caught.value)
    assert f"postgresql://keeper:***@127.0.0.1:{port}/lg" in message
    assert "s3cr" not in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://k:pw@db:5432/lg", "postgresql://k:***@db:5432/lg"),
        ("postgresql://k@db/lg", "postgresql://k@db/lg"),
        ("postgresql://db/lg?sslmode=require&password=pw", "postgresql://db/lg?sslmode=require&password=***"),
        ("postgresql://k:p%40ss@[::1]:5432/lg", "postgresql://k:***@[::1]:5432/lg"),
        ("host=db password='p w' dbname=lg", "host=db password=*** dbname=lg"),
    ],
)
def test_redact_url__password_masked_everything_else_kept(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_scrub__a_message_quoting_the_password__masked_raw_and_decoded() -> None:
    url = "postgresql://k:p%40ss@db/lg"
    assert scrub('bad token "p%40ss" for p@ss', url) == 'bad token "***" for ***'


def test_open_read_only__a_write__refused_by_the_database_and_nothing_changed(
    store_backend: StoreBackend,
) -> None:
    """The console's store: the database itself refuses a write, whatever code path would try one."""
    keeper = store_backend.open()
    keeper.record_claims([claim(1)], cursor=5)
    keeper.close()
    reader = store_backend.open(read_only=True)

    with pytest.raises(store_backend.read_only_error):
        reader.record_claims([claim(2)], cursor=6)

    assert [record.claim_id for record in reader.claims_in_state(*ClaimState)] == [1]
    assert reader.cursor() == 5
    reader.close()


def test_open_read_only__older_schema__refused_naming_both_versions_and_not_migrated(
    store_backend: StoreBackend,
) -> None:
    store_backend.open(migrations=MIGRATIONS[:3]).close()

    with pytest.raises(StoreError) as refused:
        store_backend.open(read_only=True)

    assert str(refused.value) == (
        f"the store is at schema version 3, older than this keeper's {SCHEMA_VERSION}: a reader does not "
        "migrate it; run this version's keeper on it first"
    )
    assert store_backend.schema_version() == 3
