"""``open_store``: the store the settings name, the one way the commands open it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keeper.store.sql import SqlStore
from keeper.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from keeper.settings import KeeperSettings


def open_store(settings: KeeperSettings, read_only: bool = False) -> SqlStore:
    """PostgreSQL at ``LG_DATABASE_URL`` when it is set, else SQLite at ``LG_DATABASE_PATH`` (the default);
    migrated to this keeper's schema either way, or, ``read_only``, opened so that the database refuses any
    write and required to be at this keeper's schema already."""
    if settings.database_url is None:
        return SqliteStore(settings.database_path, read_only=read_only)
    # Imported here: psycopg is loaded only by keepers that use PostgreSQL.
    from keeper.store.postgres import PostgresStore

    return PostgresStore(settings.database_url.get_secret_value(), read_only=read_only)
