"""The keeper's durable state: claims seen on chain, their evidence and decisions, transactions, the cursor.

One SQLite file in WAL mode. Every method is one short transaction, so a crash between two calls loses at
most the step in progress, and recording the same claim twice is a no-op. The ``Store`` protocol is what the
pipeline depends on, so a PostgreSQL store can follow without touching the pipeline.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from keeper.evidence import ClaimInput, LiquidationEvidence, ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.policy import Decision, PolicyParams


class ClaimState(StrEnum):
    RECORDED = "recorded"
    """Seen on chain, not yet decided."""
    DEFERRED = "deferred"
    """Verification failed on our side or the exchange's; retried at ``next_attempt_at``."""
    DECIDED = "decided"
    """A verdict is stored and audited but not yet on chain."""
    POSTED = "posted"
    """The verdict is on chain; approved claims wait for their challenge window."""
    PAID = "paid"
    """Terminal: the payout was executed. (A posted rejection stays ``posted``: nothing is left to do.)"""
    VETOED = "vetoed"
    """A guardian or governance vetoed the approval on chain (``ClaimVetoed``); final unless reopened."""
    CANCELLED = "cancelled"
    """Governance cancelled the approval on chain (``ClaimCancelled``); final unless reopened."""
    MANUAL_REVIEW = "manual_review"
    """Automation cannot decide: waits for a person (``keeper review decide``), never for a timer."""


class AppealKind(StrEnum):
    """A claim-appeal event the keeper follows (``ClaimReopened``, ``ClaimCancelled``, ``ClaimVetoed``)."""

    REOPENED = "reopened"
    """Rejected -> Pending on chain: the claim is verified and decided again."""
    CANCELLED = "cancelled"
    VETOED = "vetoed"


APPEAL_STATES = {AppealKind.CANCELLED: ClaimState.CANCELLED, AppealKind.VETOED: ClaimState.VETOED}


class AppealRecord(BaseModel):
    """An appeal event as ingested; applied in chain order in the transaction that records its block range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int = Field(ge=1)
    kind: AppealKind
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=0)


class TxKind(StrEnum):
    VERIFY = "verify"
    PAYOUT = "payout"


class ClaimRecord(BaseModel):
    """A ``LiquidationClaimed`` event as stored, plus the keeper's processing state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int = Field(ge=1)
    user: str
    exchange: int
    account_ref: str
    order_id: str
    instrument: str
    claimed_loss: int = Field(ge=0)
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=0)
    state: ClaimState = ClaimState.RECORDED
    attempts: int = 0
    next_attempt_at: int = 0
    last_error: str | None = None
    payout_failures: int = 0
    """Batch payouts the token refused (``PayoutFailed``) since the claim was last decided."""
    payout_retry_at: int = 0
    """Chain time before which the payout is not tried again (0: no back-off)."""
    review_cause: ReviewCause | None = None
    """Why the claim went to manual review (kept after a person decides it, as history)."""
    review_detail: str | None = None
    review_entered_at: int | None = None
    """Chain time the claim entered manual review."""
    review_claim: ClaimInput | None = None
    """The claim as judged when it went to review (for the desk; a decision re-reads the chain)."""
    review_earliest_ms: int | None = None
    """The earliest time (unix ms) the claim's liquidation can be: where the exchange's purge clock starts."""


class StoredDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    decision: Decision
    canonical_record: dict[str, Any]
    policy: PolicyParams | None = None
    """The effective policy the decision was made under (None: stored by a keeper before schema 3)."""


class DecisionToSave(BaseModel):
    """One verdict for ``Store.save_decisions``: what ``save_decision`` takes, as one item of a group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    decision: Decision
    record: dict[str, Any]
    evidence: LiquidationEvidence | None
    answers: Sequence[RawAnswer] | None = None
    policy: PolicyParams | None = None


class StoredTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tx_hash: str
    kind: TxKind
    claim_ids: list[int]
    status: str
    gas_used: int | None = None


class StoreError(RuntimeError):
    """The database is in a state this code cannot handle (e.g. written by a newer keeper)."""


class UnknownClaimError(LookupError):
    def __init__(self, claim_id: int) -> None:
        super().__init__(f"claim {claim_id} is not in the store")
        self.claim_id = claim_id


class Store(Protocol):
    def record_claims(
        self, claims: Sequence[ClaimRecord], cursor: int, appeals: Sequence[AppealRecord] = ()
    ) -> list[int]: ...
    def cursor(self) -> int | None: ...
    def claim(self, claim_id: int) -> ClaimRecord: ...
    def claims_in_state(self, *states: ClaimState) -> list[ClaimRecord]: ...
    def due_for_verification(self, now: int) -> list[ClaimRecord]: ...
    def awaiting_payout(self) -> list[ClaimRecord]: ...
    def count_by_state(self) -> dict[ClaimState, int]: ...
    def defer(self, claim_id: int, error: str, next_attempt_at: int) -> None: ...
    def save_decision(
        self,
        claim_id: int,
        decision: Decision,
        record: dict[str, Any],
        evidence: LiquidationEvidence | None,
        answers: Sequence[RawAnswer] | None = None,
        policy: PolicyParams | None = None,
    ) -> None: ...
    def save_decisions(self, decisions: Sequence[DecisionToSave]) -> None: ...
    def to_review(
        self,
        claim_id: int,
        cause: ReviewCause,
        detail: str,
        answers: Sequence[RawAnswer],
        now: int,
        claim: ClaimInput | None = None,
        earliest_ms: int | None = None,
        evidence: LiquidationEvidence | None = None,
    ) -> None: ...
    def in_review(self) -> list[ClaimRecord]: ...
    def answers(self, claim_id: int) -> list[RawAnswer]: ...
    def decision(self, claim_id: int) -> StoredDecision | None: ...
    def evidence(self, claim_id: int) -> LiquidationEvidence | None: ...
    def set_state(self, claim_ids: Sequence[int], state: ClaimState) -> None: ...
    def payout_failed(self, claim_id: int, error: str, retry_at: int, count: bool = True) -> None: ...
    def record_transaction(self, tx: StoredTransaction) -> None: ...
    def transactions(self) -> list[StoredTransaction]: ...


# Ordered; migration i brings the schema from user_version i to i + 1. Never edit a released entry.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE claims (
        claim_id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        exchange INTEGER NOT NULL,
        account_ref TEXT NOT NULL,
        order_id TEXT NOT NULL,
        instrument TEXT NOT NULL,
        claimed_loss TEXT NOT NULL,
        block_number INTEGER NOT NULL,
        log_index INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX claims_state ON claims(state, next_attempt_at);
    CREATE TABLE evidence (
        claim_id INTEGER PRIMARY KEY REFERENCES claims(claim_id),
        evidence_json TEXT NOT NULL,
        raw_digests_json TEXT NOT NULL
    );
    CREATE TABLE decisions (
        claim_id INTEGER PRIMARY KEY REFERENCES claims(claim_id),
        approved INTEGER NOT NULL,
        payout TEXT NOT NULL,
        reason_code INTEGER NOT NULL,
        evidence_hash TEXT NOT NULL,
        canonical_record_json TEXT NOT NULL
    );
    CREATE TABLE transactions (
        tx_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        claim_ids_json TEXT NOT NULL,
        status TEXT NOT NULL,
        gas_used INTEGER
    );
    CREATE TABLE cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_block INTEGER NOT NULL
    );
    """,
    """
    ALTER TABLE claims ADD COLUMN payout_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE claims ADD COLUMN payout_retry_at INTEGER NOT NULL DEFAULT 0
    """,
    # 3: the manual-review desk and the raw exchange answers a verdict or a review rests on.
    """
    ALTER TABLE claims ADD COLUMN review_cause TEXT;
    ALTER TABLE claims ADD COLUMN review_detail TEXT;
    ALTER TABLE claims ADD COLUMN review_entered_at INTEGER;
    ALTER TABLE claims ADD COLUMN review_claim_json TEXT;
    ALTER TABLE claims ADD COLUMN review_earliest_ms INTEGER;
    ALTER TABLE decisions ADD COLUMN policy_json TEXT;
    CREATE INDEX claims_review ON claims(state, review_entered_at);
    CREATE TABLE answers (
        claim_id INTEGER NOT NULL REFERENCES claims(claim_id),
        seq INTEGER NOT NULL,
        request TEXT NOT NULL,
        status INTEGER NOT NULL,
        observed_at_ms INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (claim_id, seq)
    )
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Applies the migrations the database lacks, each in its own transaction; returns the new version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        raise StoreError(f"database schema version {version} is newer than this keeper's {len(migrations)}")
    for index in range(version, len(migrations)):
        # executescript would commit on its own; run statements one by one inside an explicit transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migrations[index].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {index + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(migrations)


class SqliteStore:
    """``Store`` on one SQLite file. Amounts are stored as decimal text: uint256 does not fit in INTEGER."""

    def __init__(self, path: Path, migrations: Sequence[str] = MIGRATIONS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit mode (isolation_level=None): transactions are explicit in _tx.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA synchronous = FULL")
        self.schema_version = migrate(self._conn, migrations)

    def __repr__(self) -> str:
        return f"SqliteStore({self.path})"

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def record_claims(
        self, claims: Sequence[ClaimRecord], cursor: int, appeals: Sequence[AppealRecord] = ()
    ) -> list[int]:
        """Inserts the new claims, applies the appeals (in chain order) and moves the cursor in one
        transaction; returns the ids that were new. A reopened claim goes back to ``recorded`` (verified
        again, attempts and payout back-off reset); a cancelled or vetoed one takes its final state. An
        appeal for a claim not in the store (filed before the start block) changes nothing."""
        with self._tx() as conn:
            inserted: list[int] = []
            for claim in claims:
                result = conn.execute(
                    # ON CONFLICT, not OR IGNORE: OR IGNORE would also swallow NOT NULL violations.
                    "INSERT INTO claims (claim_id, user, exchange, account_ref, order_id,"
                    " instrument, claimed_loss, block_number, log_index, state, attempts, next_attempt_at,"
                    " last_error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (claim_id) DO NOTHING",
                    (
                        claim.claim_id,
                        claim.user,
                        claim.exchange,
                        claim.account_ref,
                        claim.order_id,
                        claim.instrument,
                        str(claim.claimed_loss),
                        claim.block_number,
                        claim.log_index,
                        claim.state.value,
                        claim.attempts,
                        claim.next_attempt_at,
                        claim.last_error,
                    ),
                )
                if result.rowcount:
                    inserted.append(claim.claim_id)
            for appeal in sorted(appeals, key=lambda a: (a.block_number, a.log_index)):
                if appeal.kind is AppealKind.REOPENED:
                    conn.execute(
                        "UPDATE claims SET state = ?, attempts = 0, next_attempt_at = 0, last_error = ?,"
                        " payout_failures = 0, payout_retry_at = 0 WHERE claim_id = ?",
                        (ClaimState.RECORDED.value, "reopened on chain", appeal.claim_id),
                    )
                else:
                    conn.execute(
                        "UPDATE claims SET state = ? WHERE claim_id = ?",
                        (APPEAL_STATES[appeal.kind].value, appeal.claim_id),
                    )
            conn.execute(
                "INSERT INTO cursor (id, last_block) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_block = max(last_block, excluded.last_block)",
                (cursor,),
            )
        return inserted

    def cursor(self) -> int | None:
        row = self._conn.execute("SELECT last_block FROM cursor WHERE id = 1").fetchone()
        return None if row is None else int(row[0])

    def claim(self, claim_id: int) -> ClaimRecord:
        row = self._conn.execute("SELECT * FROM claims WHERE claim_id = ?", (claim_id,)).fetchone()
        if row is None:
            raise UnknownClaimError(claim_id)
        return _claim_from_row(row)

    def claims_in_state(self, *states: ClaimState) -> list[ClaimRecord]:
        marks = ",".join("?" for _ in states)
        rows = self._conn.execute(
            f"SELECT * FROM claims WHERE state IN ({marks}) ORDER BY claim_id", [s.value for s in states]
        ).fetchall()
        return [_claim_from_row(row) for row in rows]

    def count_by_state(self) -> dict[ClaimState, int]:
        """Claims per state, every state present (0 when none)."""
        rows = self._conn.execute("SELECT state, COUNT(*) FROM claims GROUP BY state").fetchall()
        counts = {state: 0 for state in ClaimState}
        counts.update({ClaimState(state): int(count) for state, count in rows})
        return counts

    def awaiting_payout(self) -> list[ClaimRecord]:
        """Posted claims that may still be paid: our verdict approved them, or another keeper decided them."""
        rows = self._conn.execute(
            "SELECT c.* FROM claims c LEFT JOIN decisions d ON d.claim_id = c.claim_id"
            " WHERE c.state = ? AND (d.approved IS NULL OR d.approved = 1) ORDER BY c.claim_id",
            (ClaimState.POSTED.value,),
        ).fetchall()
        return [_claim_from_row(row) for row in rows]

    def due_for_verification(self, now: int) -> list[ClaimRecord]:
        rows = self._conn.execute(
            "SELECT * FROM claims WHERE state = ? OR (state = ? AND next_attempt_at <= ?) ORDER BY claim_id",
            (ClaimState.RECORDED.value, ClaimState.DEFERRED.value, now),
        ).fetchall()
        return [_claim_from_row(row) for row in rows]

    def defer(self, claim_id: int, error: str, next_attempt_at: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE claims SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE claim_id = ?",
                (ClaimState.DEFERRED.value, next_attempt_at, error, claim_id),
            )

    def save_decision(
        self,
        claim_id: int,
        decision: Decision,
        record: dict[str, Any],
        evidence: LiquidationEvidence | None,
        answers: Sequence[RawAnswer] | None = None,
        policy: PolicyParams | None = None,
    ) -> None:
        """Stores the verdict (and evidence, if any) and marks the claim decided, atomically. ``answers``
        (the raw exchange answers the verdict rests on) replace the stored set; None keeps it (a person's
        decision on the answers stored when the claim went to review)."""
        self.save_decisions(
            [
                DecisionToSave(
                    claim_id=claim_id,
                    decision=decision,
                    record=record,
                    evidence=evidence,
                    answers=answers,
                    policy=policy,
                )
            ]
        )

    def save_decisions(self, decisions: Sequence[DecisionToSave]) -> None:
        """``save_decision`` for many verdicts in one transaction: all stored or none, and one commit (one
        fsync) for the group instead of one per verdict, which at crash-day rates was the keeper's largest
        single cost."""
        policies: dict[int, str] = {}  # a group shares its policy: serialised once
        with self._tx() as conn:
            for item in decisions:
                policy_json = None
                if item.policy is not None:
                    key = id(item.policy)
                    if key not in policies:
                        policies[key] = item.policy.model_dump_json()
                    policy_json = policies[key]
                _save_decision(conn, item, policy_json)

    def to_review(
        self,
        claim_id: int,
        cause: ReviewCause,
        detail: str,
        answers: Sequence[RawAnswer],
        now: int,
        claim: ClaimInput | None = None,
        earliest_ms: int | None = None,
        evidence: LiquidationEvidence | None = None,
    ) -> None:
        """Parks the claim for a person with why automation stopped, and keeps the raw answers read (the
        exchange may purge them before anyone looks). ``due_for_verification`` never returns it again."""
        with self._tx() as conn:
            updated = conn.execute(
                "UPDATE claims SET state = ?, attempts = attempts + 1, last_error = ?, review_cause = ?,"
                " review_detail = ?, review_entered_at = ?, review_claim_json = ?, review_earliest_ms = ?"
                " WHERE claim_id = ?",
                (
                    ClaimState.MANUAL_REVIEW.value,
                    f"manual_review: {cause.value}",
                    cause.value,
                    detail,
                    now,
                    None if claim is None else claim.model_dump_json(),
                    earliest_ms,
                    claim_id,
                ),
            )
            if not updated.rowcount:
                raise UnknownClaimError(claim_id)
            if evidence is not None:
                _save_evidence(conn, claim_id, evidence)
            else:
                conn.execute("DELETE FROM evidence WHERE claim_id = ?", (claim_id,))
            _replace_answers(conn, claim_id, answers)

    def in_review(self) -> list[ClaimRecord]:
        """Claims waiting for a person, longest waiting first."""
        rows = self._conn.execute(
            "SELECT * FROM claims WHERE state = ? ORDER BY review_entered_at, claim_id",
            (ClaimState.MANUAL_REVIEW.value,),
        ).fetchall()
        return [_claim_from_row(row) for row in rows]

    def answers(self, claim_id: int) -> list[RawAnswer]:
        """The raw answers the claim's verdict (or review) rests on, in the order they were read."""
        rows = self._conn.execute(
            "SELECT * FROM answers WHERE claim_id = ? ORDER BY seq", (claim_id,)
        ).fetchall()
        answers = []
        for row in rows:
            answer = RawAnswer(
                request=row["request"],
                status=row["status"],
                body=RawAnswer.decompress(row["body"]),
                observed_at_ms=row["observed_at_ms"],
            )
            if answer.sha256 != row["sha256"]:
                raise StoreError(f"claim {claim_id}: stored answer {row['seq']} does not match its sha256")
            answers.append(answer)
        return answers

    def decision(self, claim_id: int) -> StoredDecision | None:
        row = self._conn.execute("SELECT * FROM decisions WHERE claim_id = ?", (claim_id,)).fetchone()
        if row is None:
            return None
        decision = Decision(
            approved=bool(row["approved"]),
            payout=int(row["payout"]),
            reason_code=row["reason_code"],
            evidence_hash=row["evidence_hash"],
        )
        record = json.loads(row["canonical_record_json"])
        policy = None if row["policy_json"] is None else PolicyParams.model_validate_json(row["policy_json"])
        return StoredDecision(claim_id=claim_id, decision=decision, canonical_record=record, policy=policy)

    def evidence(self, claim_id: int) -> LiquidationEvidence | None:
        """The evidence a decision was based on (None for rejections without evidence)."""
        row = self._conn.execute(
            "SELECT evidence_json FROM evidence WHERE claim_id = ?", (claim_id,)
        ).fetchone()
        return None if row is None else LiquidationEvidence.model_validate_json(row[0])

    def set_state(self, claim_ids: Sequence[int], state: ClaimState) -> None:
        with self._tx() as conn:
            conn.executemany(
                "UPDATE claims SET state = ? WHERE claim_id = ?", [(state.value, cid) for cid in claim_ids]
            )

    def payout_failed(self, claim_id: int, error: str, retry_at: int, count: bool = True) -> None:
        """The claim's payout did not happen: not tried again before ``retry_at``; ``count`` adds one to
        ``payout_failures`` (a refused transfer; not for a skip that only waits, e.g. the daily limit)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE claims SET payout_failures = payout_failures + ?, payout_retry_at = ?, last_error = ?"
                " WHERE claim_id = ?",
                (int(count), retry_at, error, claim_id),
            )

    def record_transaction(self, tx: StoredTransaction) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO transactions (tx_hash, kind, claim_ids_json, status, gas_used)"
                " VALUES (?, ?, ?, ?, ?)",
                (tx.tx_hash, tx.kind.value, json.dumps(tx.claim_ids), tx.status, tx.gas_used),
            )

    def transactions(self) -> list[StoredTransaction]:
        rows = self._conn.execute("SELECT * FROM transactions ORDER BY rowid").fetchall()
        return [
            StoredTransaction(
                tx_hash=row["tx_hash"],
                kind=TxKind(row["kind"]),
                claim_ids=json.loads(row["claim_ids_json"]),
                status=row["status"],
                gas_used=row["gas_used"],
            )
            for row in rows
        ]


def _save_decision(conn: sqlite3.Connection, item: DecisionToSave, policy_json: str | None) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO decisions (claim_id, approved, payout, reason_code, evidence_hash,"
        " canonical_record_json, policy_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            item.claim_id,
            int(item.decision.approved),
            str(item.decision.payout),
            int(item.decision.reason_code),
            item.decision.evidence_hash,
            json.dumps(item.record, sort_keys=True),
            policy_json,
        ),
    )
    if item.evidence is not None:
        _save_evidence(conn, item.claim_id, item.evidence)
    if item.answers is not None:
        _replace_answers(conn, item.claim_id, item.answers)
    conn.execute(
        "UPDATE claims SET state = ?, attempts = attempts + 1, last_error = NULL WHERE claim_id = ?",
        (ClaimState.DECIDED.value, item.claim_id),
    )


def _save_evidence(conn: sqlite3.Connection, claim_id: int, evidence: LiquidationEvidence) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO evidence (claim_id, evidence_json, raw_digests_json) VALUES (?, ?, ?)",
        # raw_digests_json is superseded by the answers table (schema 3); the column stays NOT NULL.
        (claim_id, evidence.model_dump_json(), "{}"),
    )


def _replace_answers(conn: sqlite3.Connection, claim_id: int, answers: Sequence[RawAnswer]) -> None:
    conn.execute("DELETE FROM answers WHERE claim_id = ?", (claim_id,))
    conn.executemany(
        "INSERT INTO answers (claim_id, seq, request, status, observed_at_ms, sha256, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (claim_id, seq, a.request, a.status, a.observed_at_ms, a.sha256, a.compressed())
            for seq, a in enumerate(answers)
        ],
    )


def _claim_from_row(row: sqlite3.Row) -> ClaimRecord:
    return ClaimRecord(
        claim_id=row["claim_id"],
        user=row["user"],
        exchange=row["exchange"],
        account_ref=row["account_ref"],
        order_id=row["order_id"],
        instrument=row["instrument"],
        claimed_loss=int(row["claimed_loss"]),
        block_number=row["block_number"],
        log_index=row["log_index"],
        state=ClaimState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        payout_failures=row["payout_failures"],
        payout_retry_at=row["payout_retry_at"],
        review_cause=row["review_cause"],
        review_detail=row["review_detail"],
        review_entered_at=row["review_entered_at"],
        review_claim=(
            None
            if row["review_claim_json"] is None
            else ClaimInput.model_validate_json(row["review_claim_json"])
        ),
        review_earliest_ms=row["review_earliest_ms"],
    )
