"""The store's schema, one ordered list of migrations for every database, and the runner that applies them.

A migration is written once, as a template whose few dialect-specific words are placeholders
(``Dialect``); it is rendered for SQLite or PostgreSQL when applied. The SQLite rendering of every released
migration is the exact text that was released (tests/keeper/test_store.py pins its digest), so the
database files already in use migrate exactly as before. Migration i brings the schema from version i to
i + 1, each in its own transaction; where the version is kept, and the lock that keeps two keepers from
migrating at once, are the database's (``MigrationTarget``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from keeper.store.models import StoreError


@dataclass(frozen=True)
class Dialect:
    """The words a migration template leaves open: ``{int64}``, ``{bytes}``, ``{user}``, ``{tx_rowid}``."""

    name: str
    int64: str
    """A 64-bit integer column. SQLite's INTEGER is 64-bit (and ``INTEGER PRIMARY KEY`` is the rowid);
    PostgreSQL's INTEGER is 32-bit, too small for millisecond times and uint-size claim ids: BIGINT."""
    bytes: str
    user: str
    """The claims' ``user`` column: a reserved word in PostgreSQL (``SELECT user`` is the session's role)."""
    tx_rowid: str
    """``transactions`` is listed in insertion order: SQLite's implicit rowid, an identity column of that
    name on PostgreSQL (which has no rowid)."""


SQLITE = Dialect(name="sqlite", int64="INTEGER", bytes="BLOB", user="user", tx_rowid="")
POSTGRES = Dialect(
    name="postgres",
    int64="BIGINT",
    bytes="BYTEA",
    user='"user"',
    tx_rowid="\n        rowid BIGINT GENERATED ALWAYS AS IDENTITY,",
)


@dataclass(frozen=True)
class Migration:
    """One schema step: statements separated by ``;``, with ``Dialect`` placeholders in braces."""

    template: str

    def render(self, dialect: Dialect) -> str:
        return self.template.format_map(asdict(dialect))


MigrationLike = Migration | str
"""A plain string is portable SQL, applied as it is on every database (no placeholders)."""


# Ordered. Never edit a released entry: add one. Inside DML the column is always written "user" (quoted),
# which both databases read as the identifier.
MIGRATIONS: tuple[MigrationLike, ...] = (
    Migration(
        """
    CREATE TABLE claims (
        claim_id {int64} PRIMARY KEY,
        {user} TEXT NOT NULL,
        exchange {int64} NOT NULL,
        account_ref TEXT NOT NULL,
        order_id TEXT NOT NULL,
        instrument TEXT NOT NULL,
        claimed_loss TEXT NOT NULL,
        block_number {int64} NOT NULL,
        log_index {int64} NOT NULL,
        state TEXT NOT NULL,
        attempts {int64} NOT NULL DEFAULT 0,
        next_attempt_at {int64} NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX claims_state ON claims(state, next_attempt_at);
    CREATE TABLE evidence (
        claim_id {int64} PRIMARY KEY REFERENCES claims(claim_id),
        evidence_json TEXT NOT NULL,
        raw_digests_json TEXT NOT NULL
    );
    CREATE TABLE decisions (
        claim_id {int64} PRIMARY KEY REFERENCES claims(claim_id),
        approved {int64} NOT NULL,
        payout TEXT NOT NULL,
        reason_code {int64} NOT NULL,
        evidence_hash TEXT NOT NULL,
        canonical_record_json TEXT NOT NULL
    );
    CREATE TABLE transactions ({tx_rowid}
        tx_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        claim_ids_json TEXT NOT NULL,
        status TEXT NOT NULL,
        gas_used {int64}
    );
    CREATE TABLE cursor (
        id {int64} PRIMARY KEY CHECK (id = 1),
        last_block {int64} NOT NULL
    );
    """
    ),
    Migration(
        """
    ALTER TABLE claims ADD COLUMN payout_failures {int64} NOT NULL DEFAULT 0;
    ALTER TABLE claims ADD COLUMN payout_retry_at {int64} NOT NULL DEFAULT 0
    """
    ),
    # 3: the manual-review desk and the raw exchange answers a verdict or a review rests on.
    Migration(
        """
    ALTER TABLE claims ADD COLUMN review_cause TEXT;
    ALTER TABLE claims ADD COLUMN review_detail TEXT;
    ALTER TABLE claims ADD COLUMN review_entered_at {int64};
    ALTER TABLE claims ADD COLUMN review_claim_json TEXT;
    ALTER TABLE claims ADD COLUMN review_earliest_ms {int64};
    ALTER TABLE decisions ADD COLUMN policy_json TEXT;
    CREATE INDEX claims_review ON claims(state, review_entered_at);
    CREATE TABLE answers (
        claim_id {int64} NOT NULL REFERENCES claims(claim_id),
        seq {int64} NOT NULL,
        request TEXT NOT NULL,
        status {int64} NOT NULL,
        observed_at_ms {int64} NOT NULL,
        sha256 TEXT NOT NULL,
        body {bytes} NOT NULL,
        PRIMARY KEY (claim_id, seq)
    )
    """
    ),
    # 4: claim leases, for keepers sharing one PostgreSQL store: which keeper works on the claim, until when
    # (the database's clock, unix ms; 0: not leased).
    Migration(
        """
    ALTER TABLE claims ADD COLUMN lease_owner TEXT;
    ALTER TABLE claims ADD COLUMN lease_expires_at {int64} NOT NULL DEFAULT 0;
    CREATE INDEX claims_lease ON claims(lease_owner)
    """
    ),
    # 5: account leases (keepers sharing one PostgreSQL store): which keeper takes an account's due claims
    # while its lease lives, so that one keeper reads the account's day windows (store/account_leases.py).
    Migration(
        """
    CREATE TABLE account_leases (
        exchange {int64} NOT NULL,
        account_ref TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at {int64} NOT NULL,
        PRIMARY KEY (exchange, account_ref)
    )
    """
    ),
    # 6: a pass asks only for the approvals whose payout can be tried now (``awaiting_payout(now)``): without
    # this index the database walks every posted claim to find them.
    Migration(
        """
    CREATE INDEX claims_payout ON claims(state, payout_retry_at)
    """
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def render(migration: MigrationLike, dialect: Dialect) -> str:
    return migration if isinstance(migration, str) else migration.render(dialect)


def statements(migration: MigrationLike, dialect: Dialect) -> Iterator[str]:
    """The migration's statements for ``dialect``, one by one: a driver's multi-statement call (SQLite's
    executescript) would commit on its own, outside the migration's transaction."""
    for statement in render(migration, dialect).split(";"):
        if statement.strip():
            yield statement


class Executor(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any: ...


class MigrationTarget(Protocol):
    """What ``migrate`` needs of a database."""

    @property
    def dialect(self) -> Dialect: ...

    def read_version(self) -> int:
        """The schema version, read without a lock (0 for an empty database)."""
        ...

    def migration_transaction(self) -> AbstractContextManager[Executor]:
        """One transaction holding the database's migration lock (released when it ends); rolled back if
        the block raises."""
        ...

    def locked_version(self, conn: Executor) -> int:
        """The schema version, read inside ``migration_transaction``."""
        ...

    def write_version(self, conn: Executor, version: int) -> None: ...


def migrate(db: MigrationTarget, migrations: Sequence[MigrationLike] = MIGRATIONS) -> int:
    """Applies the migrations the database lacks, each in its own transaction; returns the new version.

    An up-to-date database is only read (no lock). Otherwise each step takes the migration lock and reads
    the version again under it: another keeper starting at the same moment may have applied the step
    meanwhile, and applying it twice would fail (``CREATE TABLE claims`` exists) or worse."""
    target = len(migrations)
    version = db.read_version()
    while version < target:
        with db.migration_transaction() as conn:
            version = db.locked_version(conn)
            if version < target:
                for statement in statements(migrations[version], db.dialect):
                    conn.execute(statement)
                version += 1
                db.write_version(conn, version)
    if version > target:
        raise StoreError(f"database schema version {version} is newer than this keeper's {target}")
    return target
