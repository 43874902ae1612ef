"""``PostgresStore``: the store in a PostgreSQL database (psycopg 3, a psycopg-pool connection pool).

Chosen by ``LG_DATABASE_URL``. The schema version is the one row of ``schema_version``; migrations run
under ``pg_advisory_xact_lock(MIGRATION_LOCK_KEY)``, so keepers starting together migrate one at a time.
The URL's password never leaves this module: reprs and errors show ``redact_url``'s form.

Imported only when a URL is configured (``open_store``): a SQLite keeper does not load psycopg.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from keeper.store.migrations import MIGRATIONS, POSTGRES, Dialect, Executor, MigrationLike
from keeper.store.models import StoreError
from keeper.store.sql import Connection, SqlStore
from keeper.store.url import redact_url, scrub


def advisory_lock_key(name: str) -> int:
    """The advisory-lock key (a signed 64-bit number) of the LeverageGuard store's lock ``name``."""
    return int.from_bytes(hashlib.sha256(f"leverageguard.store.{name}".encode()).digest()[:8], signed=True)


# Held while migrating the store, so keepers starting together migrate one at a time.
MIGRATION_LOCK_KEY = advisory_lock_key("migrate")


@lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    """The store's ``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` doubled, as psycopg wants)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgConnection:
    """A psycopg connection behind the ``Connection`` protocol: ``?`` placeholders, rows by name."""

    def __init__(self, conn: psycopg.Connection[DictRow]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[DictRow]:
        if not parameters:  # sent as it is: a statement without parameters is never parsed for them
            return self._conn.execute(sql)
        return self._conn.execute(_placeholders(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_placeholders(sql), parameters)


class PostgresDatabase:
    """The ``Database`` adapter: a pool of autocommit connections; transactions explicit."""

    dialect: Dialect = POSTGRES
    # clock_timestamp, not now(): now() is the transaction's start.
    now_ms = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self, url: str, connect_timeout_seconds: float, pool_size: int, read_only: bool = False
    ) -> None:
        shown = redact_url(url)
        connect_timeout = str(max(1, math.ceil(connect_timeout_seconds)))
        try:
            conninfo_to_dict(url)  # a malformed URL fails here, before any connection attempt is logged
            # One connection first: its error says why (the pool only logs that and times out).
            psycopg.connect(url, connect_timeout=connect_timeout).close()
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store {shown}: {scrub(str(exc), url).strip()}") from None
        # No per-checkout health check (a round trip per statement): a connection broken by a server restart
        # fails its statement, the pool drops it, and the daemon's next pass gets a fresh one.
        self._pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            url,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": connect_timeout,
                # A reader's sessions: the server refuses every write in them.
                **({"options": "-c default_transaction_read_only=on"} if read_only else {}),
            },
            min_size=1,
            max_size=pool_size,
            open=False,
            name="keeper-store",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_seconds)
        except PoolTimeout:
            self._pool.close()
            detail = f"no connection in {connect_timeout_seconds:g} s"
            raise StoreError(f"PostgreSQL store {shown}: {detail}") from None

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._pool.connection() as conn:
            yield _PgConnection(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PgConnection(conn)

    def exclusive(self, conn: Connection, name: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (advisory_lock_key(name),))

    @contextmanager
    def migration_transaction(self) -> Iterator[Executor]:
        with self.transaction() as conn:
            # Held to the end of the transaction: a second keeper waits here, then reads the new version.
            conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
            )
            conn.execute("INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
            yield conn

    def read_version(self) -> int:
        with self.read() as conn:
            present = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL AS present").fetchone()
            if present is None or not present["present"]:
                return 0
            return self.locked_version(conn)

    def locked_version(self, conn: Executor) -> int:
        row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
        return 0 if row is None else int(row["version"])

    def write_version(self, conn: Executor, version: int) -> None:
        conn.execute("UPDATE schema_version SET version = ? WHERE id = 1", (version,))


class PostgresStore(SqlStore):
    """``Store`` on a PostgreSQL database (which must exist; its tables are created by the migrations)."""

    def __init__(
        self,
        url: str,
        migrations: Sequence[MigrationLike] = MIGRATIONS,
        *,
        connect_timeout_seconds: float = 10.0,
        pool_size: int = 4,
        read_only: bool = False,
    ) -> None:
        """``read_only``: every session is read-only on the server, nothing is migrated (the console)."""
        self.url = redact_url(url)
        """The URL as it may be shown (password masked); the real one is only in the connection pool."""
        database = PostgresDatabase(url, connect_timeout_seconds, pool_size, read_only)
        super().__init__(database, migrations, read_only=read_only)

    def __repr__(self) -> str:
        return f"PostgresStore({self.url})"
