"""The SQLite connection and its named, versioned migrations.

Each table module of this package lists its migrations as ``(name, sql)``
pairs; they are applied once, in order, and recorded in ``schema_migrations``,
so modules can add tables independently without renumbering each other.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError

Migration = tuple[str, str]


class Database:
    """One SQLite file (WAL mode, so readers never block the writer)."""

    def __init__(self, path: str | Path, migrations: Sequence[Migration]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA busy_timeout = 30000")
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the state database: {exc}") from exc
        self._lock = threading.RLock()
        self._migrate(migrations)

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        try:
            with self.transaction() as db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
                )
                done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
                for name, sql in migrations:
                    if name not in done:
                        db.executescript_in_transaction(sql)
                        db.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: migrating the state database failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        """Run statements atomically: all of them are committed, or none."""
        with self._lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(self.connection)
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            else:
                self.connection.execute("COMMIT")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self.connection.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    def iterate(self, sql: str, params: Sequence[object] = (), batch: int = 500) -> Iterator[sqlite3.Row]:
        """The rows of a query a batch at a time, for results too large to hold at once."""
        with self._lock:
            cursor = self.connection.execute(sql, params)
            cursor.row_factory = sqlite3.Row
        try:
            while True:
                with self._lock:
                    rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield from rows
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement in its own transaction; return the rows changed."""
        with self._lock:
            return self.connection.execute(sql, params).rowcount

    def close(self) -> None:
        self.connection.close()


class _Cursor:
    """The statements allowed inside :meth:`Database.transaction`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        return self._connection.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> sqlite3.Cursor:
        return self._connection.executemany(sql, rows)

    def executescript_in_transaction(self, script: str) -> None:
        # executescript() would COMMIT first; run the statements one by one instead.
        for statement in script.split(";"):
            if statement.strip():
                self._connection.execute(statement)
