"""The ``Store`` in SQL, once for every database: ``SqlStore`` over a small ``Database`` adapter.

The statements are portable between SQLite and PostgreSQL (``ON CONFLICT`` upserts, the ``"user"`` column
quoted, ``?`` placeholders that the PostgreSQL adapter turns into its own); what differs (connecting,
transactions, the schema version and the migration lock) is the adapter's. Every method is one short
transaction, so a crash between two calls loses at most the step in progress, and recording the same claim
twice is a no-op. Amounts are stored as decimal text: uint256 fits in neither database's integers.

Keepers on several hosts can share one store (PostgreSQL): each records what it scans (idempotent, one
shared cursor), and a claim is worked on by one keeper at a time under a lease (``lease_due``): an owner and
an expiry on the database's clock, renewed while the keeper works, released when the claim leaves the
verify -> post span (posted, deferred, sent to review), and taken over by another keeper once it lapses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from keeper.evidence import ClaimInput, LiquidationEvidence, ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.policy import Decision, PolicyParams
from keeper.store.account_leases import AccountBacklog, AccountKey, pick_accounts
from keeper.store.migrations import MIGRATIONS, MigrationLike, MigrationTarget, migrate
from keeper.store.models import (
    APPEAL_STATES,
    AppealKind,
    AppealRecord,
    AwaitingPayout,
    ClaimRecord,
    ClaimState,
    DecisionToSave,
    StoredDecision,
    StoredTransaction,
    StoreError,
    TxKind,
    UnknownClaimError,
)


class Row(Protocol):
    """A result row read by column name (``sqlite3.Row``, psycopg's ``dict_row``)."""

    def __getitem__(self, key: str, /) -> Any: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> Sequence[Row]: ...


class Connection(Protocol):
    """Statements with ``?`` placeholders."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object: ...


class Database(MigrationTarget, Protocol):
    now_ms: str
    """SQL for the database's clock in unix milliseconds, for the claim leases: every keeper sharing the
    database compares lease expiries against this one clock, never against its own host's."""
    skip_locked: str
    """Ends a lease's row selection: on PostgreSQL it locks the rows picked and skips those another keeper is
    leasing at that moment; empty on SQLite, which has no row locks (a write transaction excludes every
    other writer)."""

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads outside any write transaction (each statement sees committed data)."""
        ...

    def transaction(self) -> AbstractContextManager[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        ...

    def exclusive(self, conn: Connection, name: str) -> None:
        """Holds the database-wide lock ``name`` until ``conn``'s transaction ends: one holder at a time
        among every keeper on the database."""
        ...

    def close(self) -> None: ...


class SqlStore:
    """``Store`` on a ``Database``; migrates it on opening. ``schema_version`` is the version it is at."""

    def __init__(
        self, db: Database, migrations: Sequence[MigrationLike] = MIGRATIONS, *, read_only: bool = False
    ) -> None:
        self._db = db
        try:
            self.schema_version = (
                _read_only_version(db, len(migrations)) if read_only else migrate(db, migrations)
            )
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def record_claims(
        self, claims: Sequence[ClaimRecord], cursor: int, appeals: Sequence[AppealRecord] = ()
    ) -> list[int]:
        """Inserts the new claims, applies the appeals (in chain order) and moves the cursor in one
        transaction; returns the ids that were new. A reopened claim goes back to ``recorded`` (verified
        again, attempts and payout back-off reset); a cancelled or vetoed one takes its final state. An
        appeal for a claim not in the store (filed before the start block) changes nothing."""
        with self._db.transaction() as conn:
            # Keepers sharing the store share its cursor. Two that scanned the same blocks at once both
            # record them (the inserts are idempotent), but only the first applies their appeals: an appeal
            # applied again would undo what followed it (a reopened claim decided since, reopened again).
            self._db.exclusive(conn, "ingest")
            row = conn.execute("SELECT last_block FROM cursor WHERE id = 1").fetchone()
            recorded_to = -1 if row is None else int(row["last_block"])
            inserted: list[int] = []
            for claim in claims:
                result = conn.execute(
                    # ON CONFLICT, not SQLite's OR IGNORE: OR IGNORE would also swallow NOT NULL violations.
                    'INSERT INTO claims (claim_id, "user", exchange, account_ref, order_id,'
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
                if appeal.block_number <= recorded_to:
                    continue  # another keeper recorded this block, and its appeals, meanwhile
                if appeal.kind is AppealKind.REOPENED:
                    conn.execute(
                        "UPDATE claims SET state = ?, attempts = 0, next_attempt_at = 0, last_error = ?,"
                        f" payout_failures = 0, payout_retry_at = 0, {_RELEASED} WHERE claim_id = ?",
                        (ClaimState.RECORDED.value, "reopened on chain", appeal.claim_id),
                    )
                else:
                    conn.execute(
                        f"UPDATE claims SET state = ?, {_RELEASED} WHERE claim_id = ?",
                        (APPEAL_STATES[appeal.kind].value, appeal.claim_id),
                    )
            conn.execute(
                "INSERT INTO cursor (id, last_block) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                " SET last_block = excluded.last_block WHERE excluded.last_block > cursor.last_block",
                (cursor,),
            )
        return inserted

    def cursor(self) -> int | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT last_block FROM cursor WHERE id = 1").fetchone()
        return None if row is None else int(row["last_block"])

    def claim(self, claim_id: int) -> ClaimRecord:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM claims WHERE claim_id = ?", (claim_id,)).fetchone()
        if row is None:
            raise UnknownClaimError(claim_id)
        return _claim_from_row(row)

    def claims_in_state(self, *states: ClaimState) -> list[ClaimRecord]:
        if not states:  # PostgreSQL refuses an empty IN (); SQLite's matched nothing
            return []
        marks = ",".join("?" for _ in states)
        return self._claims(
            f"SELECT * FROM claims WHERE state IN ({marks}) ORDER BY claim_id", [s.value for s in states]
        )

    def count_by_state(self) -> dict[ClaimState, int]:
        """Claims per state, every state present (0 when none)."""
        with self._db.read() as conn:
            rows = conn.execute("SELECT state, COUNT(*) AS n FROM claims GROUP BY state").fetchall()
        counts = {state: 0 for state in ClaimState}
        counts.update({ClaimState(row["state"]): int(row["n"]) for row in rows})
        return counts

    def awaiting_payout(self, now: int | None = None) -> list[AwaitingPayout]:
        """Posted claims that may still be paid: our verdict approved them, or another keeper decided them.
        With ``now``, only those whose ``payout_retry_at`` has come (a refused payout's back-off, or the end
        of the challenge window that ``hold_payouts`` recorded): a pass reads what it can pay, not every
        approval in its window."""
        due = "" if now is None else " AND c.payout_retry_at <= ?"
        parameters = (ClaimState.POSTED.value,) if now is None else (ClaimState.POSTED.value, now)
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT c.claim_id, c.payout_retry_at FROM claims c LEFT JOIN decisions d"
                " ON d.claim_id = c.claim_id WHERE c.state = ? AND (d.approved IS NULL OR d.approved = 1)"
                f"{due} ORDER BY c.claim_id",
                parameters,
            ).fetchall()
        return [AwaitingPayout(int(row["claim_id"]), int(row["payout_retry_at"])) for row in rows]

    def hold_payouts(self, not_before: Mapping[int, int]) -> None:
        """Records, per claim, a chain time before which its payout is not tried (its approval's payableAt:
        the end of the challenge window), never moving a later one (a refused payout's back-off) earlier;
        ``awaiting_payout(now)`` leaves the claim out until then. A reopened claim starts again at 0."""
        if not not_before:
            return
        with self._db.transaction() as conn:
            conn.executemany(
                "UPDATE claims SET payout_retry_at = CASE WHEN payout_retry_at < ? THEN ?"
                " ELSE payout_retry_at END WHERE claim_id = ?",
                [(at, at, claim_id) for claim_id, at in sorted(not_before.items())],
            )

    def due_for_verification(
        self, now: int, limit: int | None = None, per_exchange: Mapping[int, int] | None = None
    ) -> list[ClaimRecord]:
        """The claims due for verification at chain time ``now``, lowest ids first: at most ``limit`` in
        all, and at most ``per_exchange[e]`` of exchange ``e`` (what its weight budget can admit; those are
        taken first). Only the rows returned are read, so a pass over a large backlog reads what it can
        take up, not the backlog."""
        with self._db.read() as conn:

            def select(where: str, parameters: Sequence[Any], count: int | None) -> Sequence[Row]:
                return conn.execute(
                    f"SELECT * FROM claims WHERE {_DUE}{where} ORDER BY claim_id{_limit(count)}",
                    (*_due_parameters(now), *parameters, *_limit_parameters(count)),
                ).fetchall()

            rows = _capped_selection(select, limit, per_exchange or {})
        return sorted((_claim_from_row(row) for row in rows), key=lambda claim: claim.claim_id)

    def defer(self, claim_id: int, error: str, next_attempt_at: int) -> None:
        with self._db.transaction() as conn:
            # Released: when it is due again, whichever keeper is free takes it.
            conn.execute(
                "UPDATE claims SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
                f" {_RELEASED} WHERE claim_id = ?",
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
        with self._db.transaction() as conn:
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
        with self._db.transaction() as conn:
            updated = conn.execute(
                "UPDATE claims SET state = ?, attempts = attempts + 1, last_error = ?, review_cause = ?,"
                " review_detail = ?, review_entered_at = ?, review_claim_json = ?, review_earliest_ms = ?,"
                f" {_RELEASED} WHERE claim_id = ?",
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
        return self._claims(
            "SELECT * FROM claims WHERE state = ? ORDER BY review_entered_at, claim_id",
            (ClaimState.MANUAL_REVIEW.value,),
        )

    def answers(self, claim_id: int) -> list[RawAnswer]:
        """The raw answers the claim's verdict (or review) rests on, in the order they were read."""
        with self._db.read() as conn:
            rows = conn.execute(
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
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM decisions WHERE claim_id = ?", (claim_id,)).fetchone()
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
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT evidence_json FROM evidence WHERE claim_id = ?", (claim_id,)
            ).fetchone()
        return None if row is None else LiquidationEvidence.model_validate_json(row["evidence_json"])

    def set_state(self, claim_ids: Sequence[int], state: ClaimState) -> None:
        """Moves the claims on (posted, paid): out of the verify -> post span, their leases released."""
        with self._db.transaction() as conn:
            conn.executemany(
                f"UPDATE claims SET state = ?, {_RELEASED} WHERE claim_id = ?",
                [(state.value, cid) for cid in claim_ids],
            )

    def payout_failed(self, claim_id: int, error: str, retry_at: int, count: bool = True) -> None:
        """The claim's payout did not happen: not tried again before ``retry_at``; ``count`` adds one to
        ``payout_failures`` (a refused transfer; not for a skip that only waits, e.g. the daily limit)."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE claims SET payout_failures = payout_failures + ?, payout_retry_at = ?, last_error = ?"
                " WHERE claim_id = ?",
                (int(count), retry_at, error, claim_id),
            )

    def record_transaction(self, tx: StoredTransaction) -> None:
        """Stores the transaction, replacing one of the same hash; a replaced one moves to the end of
        ``transactions`` (as SQLite's INSERT OR REPLACE, which gave it a new rowid, always did)."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM transactions WHERE tx_hash = ?", (tx.tx_hash,))
            conn.execute(
                "INSERT INTO transactions (tx_hash, kind, claim_ids_json, status, gas_used)"
                " VALUES (?, ?, ?, ?, ?)",
                (tx.tx_hash, tx.kind.value, json.dumps(tx.claim_ids), tx.status, tx.gas_used),
            )

    def transactions(self) -> list[StoredTransaction]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT * FROM transactions ORDER BY rowid").fetchall()
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

    # --- claim leases: one keeper at a time works on a claim, from verification to its verdict on chain

    def lease_due(
        self,
        owner: str,
        now: int,
        seconds: float,
        limit: int,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]:
        """Leases to ``owner``, for ``seconds``, up to ``limit`` of the claims ``due_for_verification``
        (lowest ids first; at most ``per_exchange[e]`` of exchange ``e``, those first) that no other keeper
        holds: free ones, ``owner``'s own (renewed), and lapsed ones (their keeper stopped renewing: taken
        over). A claim another keeper is leasing at this very moment is skipped, not waited for."""
        return self._lease(_DUE, _due_parameters(now), owner, seconds, limit, per_exchange or {})

    def lease_decided(self, owner: str, seconds: float, limit: int) -> list[ClaimRecord]:
        """``lease_due`` for verdicts stored and not yet on chain: the holder's own, a person's (never
        leased) and those of a keeper that stopped before posting them (lapsed)."""
        return self._lease("state = ?", (ClaimState.DECIDED.value,), owner, seconds, limit)

    def renew_leases(self, owner: str, seconds: float, claim_ids: Sequence[int] | None = None) -> list[int]:
        """Extends ``owner``'s leases (of ``claim_ids``, or all of them) to ``seconds`` from now; returns
        the ids still ``owner``'s, in order. A lapsed lease no other keeper took is still ``owner``'s: a
        takeover changes the owner, under the row's lock, so what is renewed is never another's."""
        if claim_ids is not None and not claim_ids:
            return []
        only = "" if claim_ids is None else f" AND claim_id IN ({','.join('?' for _ in claim_ids)})"
        with self._db.transaction() as conn:
            rows = conn.execute(
                f"UPDATE claims SET lease_expires_at = {self._db.now_ms} + ?"
                f" WHERE lease_owner = ?{only} RETURNING claim_id",
                (_millis(seconds), owner, *(claim_ids or ())),
            ).fetchall()
        return sorted(int(row["claim_id"]) for row in rows)

    def release_leases(self, owner: str, claim_ids: Sequence[int]) -> None:
        """Gives ``owner``'s leases of ``claim_ids`` back (another keeper's are left alone)."""
        if not claim_ids:
            return
        marks = ",".join("?" for _ in claim_ids)
        with self._db.transaction() as conn:
            conn.execute(
                f"UPDATE claims SET {_RELEASED} WHERE lease_owner = ? AND claim_id IN ({marks})",
                (owner, *claim_ids),
            )

    # --- account leases: a keeper takes the due claims of the accounts it holds (store/account_leases.py)

    def lease_due_by_account(self, owner: str, now: int, seconds: float, limit: int) -> list[ClaimRecord]:
        """``lease_due``, by account: leases to ``owner`` up to ``limit`` due claims (lowest ids first) of
        the accounts ``pick_accounts`` gives it, and holds those accounts for ``seconds`` (the others it held
        are given up). Claims another keeper holds are never taken, as in ``lease_due``: account leases only
        steer which free claims a keeper takes."""
        now_ms = self._db.now_ms
        leasable = f"(lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= {now_ms})"
        with self._db.transaction() as conn:
            # One account lease call at a time: two keepers picking at once would both take a free account.
            self._db.exclusive(conn, "account-leases")
            backlogs = [
                AccountBacklog(
                    (int(row["exchange"]), row["account_ref"]),
                    int(row["due"]),
                    int(row["leasable"]),
                    int(row["first_claim_id"]),
                )
                for row in conn.execute(
                    "SELECT exchange, account_ref, COUNT(*) AS due, MIN(claim_id) AS first_claim_id,"
                    f" SUM(CASE WHEN {leasable} THEN 1 ELSE 0 END) AS leasable"
                    f" FROM claims WHERE {_DUE} GROUP BY exchange, account_ref",
                    (owner, *_due_parameters(now)),
                ).fetchall()
            ]
            holders = {
                (int(row["exchange"]), row["account_ref"]): row["owner"]
                for row in conn.execute(
                    f"SELECT exchange, account_ref, owner FROM account_leases WHERE expires_at > {now_ms}"
                ).fetchall()
            }
            pick = pick_accounts(owner, backlogs, holders, limit)
            _hold_accounts(conn, now_ms, owner, pick.hold, seconds)
            if not pick.accounts:
                return []
            accounts = " OR ".join("(exchange = ? AND account_ref = ?)" for _ in pick.accounts)
            rows = conn.execute(
                f"UPDATE claims SET lease_owner = ?, lease_expires_at = {now_ms} + ? WHERE claim_id IN"
                f" (SELECT claim_id FROM claims WHERE {_DUE} AND {leasable} AND ({accounts})"
                f" ORDER BY claim_id LIMIT ?{self._db.skip_locked}) RETURNING *",
                (
                    owner,
                    _millis(seconds),
                    *_due_parameters(now),
                    owner,
                    *(part for account in pick.accounts for part in account),
                    limit,
                ),
            ).fetchall()
        return sorted((_claim_from_row(row) for row in rows), key=lambda claim: claim.claim_id)

    def renew_account_leases(self, owner: str, seconds: float) -> None:
        """Extends ``owner``'s account leases to ``seconds`` from now (while it works through a long pass)."""
        with self._db.transaction() as conn:
            conn.execute(
                f"UPDATE account_leases SET expires_at = {self._db.now_ms} + ? WHERE owner = ?",
                (_millis(seconds), owner),
            )

    def account_holders(self) -> dict[tuple[int, str], str]:
        """The live account leases: (exchange, account_ref) -> the keeper holding it."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT exchange, account_ref, owner FROM account_leases"
                f" WHERE expires_at > {self._db.now_ms} ORDER BY exchange, account_ref"
            ).fetchall()
        return {(int(row["exchange"]), row["account_ref"]): row["owner"] for row in rows}

    def _lease(
        self,
        where: str,
        parameters: Sequence[Any],
        owner: str,
        seconds: float,
        limit: int,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]:
        now_ms = self._db.now_ms
        with self._db.transaction() as conn:

            def lease(only: str, only_parameters: Sequence[Any], count: int | None) -> Sequence[Row]:
                # The rows are picked and locked in the subquery; SKIP LOCKED (PostgreSQL) passes over those
                # another keeper's lease is locking, so two keepers leasing at once get disjoint claims.
                return conn.execute(
                    f"UPDATE claims SET lease_owner = ?, lease_expires_at = {now_ms} + ? WHERE claim_id IN"
                    f" (SELECT claim_id FROM claims WHERE {where}{only}"
                    f" AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= {now_ms})"
                    f" ORDER BY claim_id{_limit(count)}{self._db.skip_locked}) RETURNING *",
                    (
                        owner,
                        _millis(seconds),
                        *parameters,
                        *only_parameters,
                        owner,
                        *_limit_parameters(count),
                    ),
                ).fetchall()

            rows = _capped_selection(lease, limit, per_exchange or {})
        return sorted((_claim_from_row(row) for row in rows), key=lambda claim: claim.claim_id)

    def _claims(self, sql: str, parameters: Sequence[Any]) -> list[ClaimRecord]:
        with self._db.read() as conn:
            rows = conn.execute(sql, parameters).fetchall()
        return [_claim_from_row(row) for row in rows]


def _read_only_version(db: Database, expected: int) -> int:
    """A reader (the console) never migrates: it reads a store at exactly this keeper's schema, or none."""
    version = db.read_version()
    if version < expected:
        raise StoreError(
            f"the store is at schema version {version}, older than this keeper's {expected}: a reader does "
            "not migrate it; run this version's keeper on it first"
        )
    if version > expected:
        raise StoreError(f"database schema version {version} is newer than this keeper's {expected}")
    return version


_RELEASED = "lease_owner = NULL, lease_expires_at = 0"

_DUE = "(state = ? OR (state = ? AND next_attempt_at <= ?))"
"""A claim due for verification (parameters: ``_due_parameters``)."""

Selection = Callable[[str, Sequence[Any], int | None], Sequence[Row]]
"""One statement over the claims: (extra ``AND`` condition, its parameters, row limit or None) -> rows."""


def _due_parameters(now: int) -> tuple[str, str, int]:
    return (ClaimState.RECORDED.value, ClaimState.DEFERRED.value, now)


def _limit(count: int | None) -> str:
    return "" if count is None else " LIMIT ?"


def _limit_parameters(count: int | None) -> tuple[int, ...]:
    return () if count is None else (count,)


def _capped_selection(select: Selection, limit: int | None, per_exchange: Mapping[int, int]) -> list[Row]:
    """A selection's rows, at most ``per_exchange[e]`` of each exchange named (those first: a weight
    budget is what binds them, and it refills whether or not the pass uses it) and then the other
    exchanges' rows, at most ``limit`` (None: no limit) in all. One statement per capped exchange plus one:
    no window function, which PostgreSQL would not lock rows under (``FOR UPDATE``)."""
    rows: list[Row] = []
    for exchange, cap in sorted(per_exchange.items()):
        count = cap if limit is None else min(cap, limit - len(rows))
        if count > 0:
            rows.extend(select(" AND exchange = ?", (exchange,), count))
    left = None if limit is None else limit - len(rows)
    if left is None or left > 0:
        marks = ",".join("?" for _ in per_exchange)
        others = f" AND exchange NOT IN ({marks})" if per_exchange else ""
        rows.extend(select(others, tuple(sorted(per_exchange)), left))
    return rows


def _millis(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _save_decision(conn: Connection, item: DecisionToSave, policy_json: str | None) -> None:
    conn.execute(
        "INSERT INTO decisions (claim_id, approved, payout, reason_code, evidence_hash,"
        " canonical_record_json, policy_json) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (claim_id) DO UPDATE SET approved = excluded.approved, payout = excluded.payout,"
        " reason_code = excluded.reason_code, evidence_hash = excluded.evidence_hash,"
        " canonical_record_json = excluded.canonical_record_json, policy_json = excluded.policy_json",
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


def _save_evidence(conn: Connection, claim_id: int, evidence: LiquidationEvidence) -> None:
    conn.execute(
        "INSERT INTO evidence (claim_id, evidence_json, raw_digests_json) VALUES (?, ?, ?)"
        " ON CONFLICT (claim_id) DO UPDATE SET evidence_json = excluded.evidence_json,"
        " raw_digests_json = excluded.raw_digests_json",
        # raw_digests_json is superseded by the answers table (schema 3); the column stays NOT NULL.
        (claim_id, evidence.model_dump_json(), "{}"),
    )


def _replace_answers(conn: Connection, claim_id: int, answers: Sequence[RawAnswer]) -> None:
    conn.execute("DELETE FROM answers WHERE claim_id = ?", (claim_id,))
    conn.executemany(
        "INSERT INTO answers (claim_id, seq, request, status, observed_at_ms, sha256, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (claim_id, seq, a.request, a.status, a.observed_at_ms, a.sha256, a.compressed())
            for seq, a in enumerate(answers)
        ],
    )


def _claim_from_row(row: Row) -> ClaimRecord:
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
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
    )


# --- account leases


def _hold_accounts(
    conn: Connection, now_ms: str, owner: str, accounts: Sequence[AccountKey], seconds: float
) -> None:
    """``owner`` holds exactly ``accounts`` for ``seconds`` from now (a held one taken over from another
    keeper changes hands); lapsed account leases are cleared away."""
    conn.execute(f"DELETE FROM account_leases WHERE owner = ? OR expires_at <= {now_ms}", (owner,))
    conn.executemany(
        "INSERT INTO account_leases (exchange, account_ref, owner, expires_at)"
        f" VALUES (?, ?, ?, {now_ms} + ?) ON CONFLICT (exchange, account_ref) DO UPDATE"
        " SET owner = excluded.owner, expires_at = excluded.expires_at",
        [(exchange, account_ref, owner, _millis(seconds)) for exchange, account_ref in accounts],
    )
