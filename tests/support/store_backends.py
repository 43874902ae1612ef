"""The store's databases as the tests see them: open a store, and reach under it (raw SQL, the version, the
migration lock), the same way for SQLite and PostgreSQL (``store_backend`` in conftest.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from keeper.store import MIGRATIONS, SqliteStore, SqlStore
from keeper.store.migrations import MigrationLike
from keeper.store.postgres import MIGRATION_LOCK_KEY, PostgresStore

CLUSTER_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "pg_cluster.py"

WaitForWaiters = Callable[[int], None]
"""Returns once ``n`` stores are blocked on the held migration lock (as far as the database shows it)."""


class StoreBackend(ABC):
    name: str
    integrity_error: type[Exception]
    """What a NOT NULL or foreign-key violation raises."""
    missing_table_error: type[Exception]
    """What a statement on a table that does not exist raises."""

    read_only_error: type[Exception]
    """What a write through a read-only store raises (the database's own refusal)."""

    @abstractmethod
    def open(self, migrations: Sequence[MigrationLike] = MIGRATIONS, read_only: bool = False) -> SqlStore:
        """A store on this test's database (the same one each time: opening again is reopening)."""

    @abstractmethod
    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement (``?`` placeholders) on a connection of its own, committed; its rows."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def tables(self) -> set[str]: ...

    @abstractmethod
    def hold_migration_lock(self) -> AbstractContextManager[WaitForWaiters]:
        """Holds the lock a migrating store takes until the block ends."""


class SqliteBackend(StoreBackend):
    name = "sqlite"
    integrity_error = sqlite3.IntegrityError
    missing_table_error = sqlite3.OperationalError
    read_only_error = sqlite3.OperationalError  # "attempt to write a readonly database"

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, migrations: Sequence[MigrationLike] = MIGRATIONS, read_only: bool = False) -> SqlStore:
        return SqliteStore(self.path, migrations=migrations, read_only=read_only)

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.path)
        try:
            with conn:
                return conn.execute(statement, parameters).fetchall()
        finally:
            conn.close()

    def schema_version(self) -> int:
        return int(self.execute("PRAGMA user_version")[0][0])

    def tables(self) -> set[str]:
        return {row[0] for row in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    @contextmanager
    def hold_migration_lock(self) -> Iterator[WaitForWaiters]:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")  # the write lock a migrating SqliteStore waits for
        try:
            # SQLite shows no waiters: give the stores time to reach the lock.
            yield lambda _count: time.sleep(0.5)
        finally:
            conn.execute("COMMIT")
            conn.close()


class PostgresBackend(StoreBackend):
    name = "postgres"
    integrity_error = psycopg.IntegrityError
    missing_table_error = psycopg.errors.UndefinedTable
    read_only_error = psycopg.errors.ReadOnlySqlTransaction

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, migrations: Sequence[MigrationLike] = MIGRATIONS, read_only: bool = False) -> SqlStore:
        return PostgresStore(self.url, migrations=migrations, read_only=read_only)

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), parameters)
            return cursor.fetchall() if cursor.description else []

    def schema_version(self) -> int:
        rows = self.execute("SELECT id, version FROM schema_version")
        assert len(rows) == 1 and rows[0][0] == 1, rows  # one row, always id 1
        return int(rows[0][1])

    def tables(self) -> set[str]:
        rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {row[0] for row in rows}

    @contextmanager
    def hold_migration_lock(self) -> Iterator[WaitForWaiters]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))  # shares the xact lock's keys

            def wait_for(count: int) -> None:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    ).fetchone()
                    if row is not None and row[0] >= count:
                        return
                    time.sleep(0.02)
                raise AssertionError(f"fewer than {count} stores waited for the migration lock")

            try:
                yield wait_for
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


# --- the PostgreSQL server of a test session


class NoPostgresError(RuntimeError):
    pass


def start_cluster() -> tuple[str, bool]:
    """``tools/pg_cluster.py start``: the server URL, and whether this call started it."""
    result = subprocess.run(
        [sys.executable, str(CLUSTER_SCRIPT), "start", "--json"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise NoPostgresError(result.stderr.strip() or f"pg_cluster.py start: exit {result.returncode}")
    info = json.loads(result.stdout)
    return str(info["url"]), bool(info["started"])


def stop_cluster() -> None:
    subprocess.run([sys.executable, str(CLUSTER_SCRIPT), "stop"], check=True)


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name``."""
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new empty database on the server for one test; dropped afterwards (connections and all)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
