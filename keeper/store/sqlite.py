"""``SqliteStore``: the store in one SQLite file, WAL mode, ``synchronous=FULL``; the embedded default.

The schema version is SQLite's ``PRAGMA user_version``; the migration lock is the write lock of
``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from keeper.store.migrations import MIGRATIONS, SQLITE, Dialect, Executor, MigrationLike
from keeper.store.sql import Connection, SqlStore


class SqliteDatabase:
    """The ``Database`` adapter: one connection in autocommit mode, transactions explicit."""

    dialect: Dialect = SQLITE
    # julianday, not unixepoch('subsec'): that needs SQLite 3.42, Debian 12's Python links 3.40.
    now_ms = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
    skip_locked = ""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        # Autocommit mode (isolation_level=None): transactions are explicit in transaction().
        if read_only:
            # SQLite itself refuses every write on this connection (and never creates the file).
            uri = f"{path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            return
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        # IMMEDIATE: the write lock is taken at BEGIN, so a transaction never fails halfway on a busy lock.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def exclusive(self, conn: Connection, name: str) -> None:
        """Nothing to take: a write transaction (BEGIN IMMEDIATE) already excludes every other writer."""

    def migration_transaction(self) -> AbstractContextManager[Executor]:
        return self.transaction()  # the write lock is the migration lock

    def read_version(self) -> int:
        return self.locked_version(self._conn)

    def locked_version(self, conn: Executor) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def write_version(self, conn: Executor, version: int) -> None:
        conn.execute(f"PRAGMA user_version = {int(version)}")  # a PRAGMA takes no parameters


class SqliteStore(SqlStore):
    """``Store`` on one SQLite file (created, with its folder, if missing)."""

    def __init__(
        self, path: Path, migrations: Sequence[MigrationLike] = MIGRATIONS, *, read_only: bool = False
    ) -> None:
        """``read_only``: SQLite refuses every write, nothing is migrated or created (the console)."""
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        super().__init__(SqliteDatabase(path, read_only), migrations, read_only=read_only)

    def __repr__(self) -> str:
        return f"SqliteStore({self.path})"
