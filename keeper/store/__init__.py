"""The keeper's durable state: claims seen on chain, their evidence and decisions, transactions, the cursor.

``Store`` (``models``) is the protocol the pipeline depends on; ``SqlStore`` (``sql``) implements it once in
portable SQL over a small database adapter: ``SqliteStore`` (``sqlite``, one file, the default) and
``PostgresStore`` (``postgres``, imported from there: it loads psycopg). ``open_store`` picks one from the
settings. The schema is one ordered list of migrations for both (``migrations``).
"""

from keeper.store.factory import open_store
from keeper.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from keeper.store.models import (
    APPEAL_STATES,
    AppealKind,
    AppealRecord,
    AwaitingPayout,
    ClaimRecord,
    ClaimState,
    DecisionToSave,
    Store,
    StoredDecision,
    StoredTransaction,
    StoreError,
    TxKind,
    UnknownClaimError,
)
from keeper.store.sql import SqlStore
from keeper.store.sqlite import SqliteStore

__all__ = [
    "APPEAL_STATES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AppealKind",
    "AppealRecord",
    "AwaitingPayout",
    "ClaimRecord",
    "ClaimState",
    "DecisionToSave",
    "Migration",
    "SqlStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoredDecision",
    "StoredTransaction",
    "TxKind",
    "UnknownClaimError",
    "migrate",
    "open_store",
]
