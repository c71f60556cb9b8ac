"""The SQLite connection and its named, versioned migrations.

Each table module of this package lists its migrations as ``(name, sql)``
pairs; they are applied once, in order, and recorded in ``schema_migrations``,
so modules can add tables independently without renumbering each other.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .._errors import DiskFullError, NotWritableError, StateDamagedError, StoreError, SyndicateError, WriteError

Migration = tuple[str, str]

# sqlite3 decodes SQLite's error messages as UTF-8; one quoting a damaged name fails with UnicodeDecodeError.
SQLITE_FAILURES = (sqlite3.Error, UnicodeDecodeError)


# How long opening the file waits out another process's lock before giving up (as busy_timeout does for queries).
OPEN_BUSY_SECONDS = 30.0


def _enter_wal_mode(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL once; on later opens only read the mode.

    Setting the journal mode takes an exclusive lock and SQLite does not run the
    busy handler for it, nor for reading the WAL index while another process is
    checkpointing it on close: two processes opening the file at once (two web
    workers starting, cron meeting a command at the shell) got "database is
    locked" at once. Such a lock lasts milliseconds, so it is waited out here,
    bounded like every other wait on the file.
    """
    deadline = time.monotonic() + OPEN_BUSY_SECONDS
    pause = 0.005
    while True:
        try:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


class Database:
    """One SQLite file (WAL mode, so readers never block the writer)."""

    def __init__(self, path: str | Path, migrations: Sequence[Migration]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError.from_os_error(str(self.path.parent), exc) or StoreError(
                f"{self.path}: cannot open the state database: {exc}"
            ) from exc
        missing = missing_pages(self.path)
        if missing:
            raise StateDamagedError(str(self.path), missing)
        try:
            self.connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA busy_timeout = 30000")
            _enter_wal_mode(self.connection)
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
        except SQLITE_FAILURES as exc:
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self.connection.close()
            raise sqlite_failure(self.path, exc) or StoreError(
                f"{self.path}: cannot open the state database: {exc}"
            ) from exc
        self._lock = threading.RLock()
        try:
            self._migrate(migrations)
        except BaseException:
            self.connection.close()
            raise

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn SQLite's "malformed", "disk full" and "read-only" into our errors naming this file.

        The damage of a corrupted page shows only in the query that reaches it,
        in any table module: translating here, where every query passes, gives
        each command the same one-line error instead of a traceback.
        """
        try:
            yield
        except SQLITE_FAILURES as exc:
            error = sqlite_failure(self.path, exc)
            if error is None:
                raise
            raise error from exc

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
        except SQLITE_FAILURES as exc:
            raise StoreError(f"{self.path}: migrating the state database failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        """Run statements atomically: all of them are committed, or none."""
        with self._lock:
            with self._translated():
                self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(self.connection)
            except BaseException as exc:
                # On a damaged file the rollback may fail too; the first error is the one to report.
                with contextlib.suppress(sqlite3.Error):
                    self.connection.execute("ROLLBACK")
                error = sqlite_failure(self.path, exc) if isinstance(exc, SQLITE_FAILURES) else None
                if error is not None:
                    raise error from exc
                raise
            else:
                with self._translated():
                    self.connection.execute("COMMIT")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock, self._translated():
            cursor = self.connection.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    def iterate(self, sql: str, params: Sequence[object] = (), batch: int = 500) -> Iterator[sqlite3.Row]:
        """The rows of a query a batch at a time, for results too large to hold at once."""
        with self._lock, self._translated():
            cursor = self.connection.execute(sql, params)
            cursor.row_factory = sqlite3.Row
        try:
            while True:
                with self._lock, self._translated():
                    rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield from rows
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement in its own transaction; return the rows changed."""
        with self._lock, self._translated():
            return self.connection.execute(sql, params).rowcount

    def close(self) -> None:
        self.connection.close()


# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL = 3, 8, 10, 11, 13
_SQLITE_CANTOPEN, _SQLITE_NOTADB = 14, 26
# Below this much free space, an I/O error writing the database is taken for a full disk.
_NEARLY_FULL = 1 << 20


def _out_of_space(path: Path) -> bool:
    """Whether a write to ``path`` most likely failed for lack of room.

    SQLite reports ENOSPC on some paths and EFBIG (a file-size limit) always as
    a bare "disk I/O error", without the errno: look at the disk and the limit.
    """
    try:
        stats = os.statvfs(path.parent)
        size = path.stat().st_size if path.exists() else 0
    except OSError:
        return False
    if stats.f_bavail * stats.f_frsize < _NEARLY_FULL:
        return True
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return soft != resource.RLIM_INFINITY and size + _NEARLY_FULL >= soft


SQLITE_MAGIC = b"SQLite format 3\x00"


def missing_pages(path: Path) -> str:
    """Why the file at ``path`` is damaged in a way SQLite does not report, or "" if it is not.

    Two kinds: a header whose format versions SQLite does not know, and a file
    shorter than its own header says.

    SQLite reads pages past the end of a truncated file as zeros and may
    return NULLs from them without an error; checked before opening, the
    truncation is reported as damage instead. The header's page count is only
    trusted as SQLite trusts it (change counter = version-valid-for), and only
    when no WAL holds frames, so a checkpoint under way elsewhere is never
    mistaken for damage.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
        size = path.stat().st_size
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return ""
    except OSError:
        return ""  # a missing file is created; an unreadable one fails in sqlite3.connect, with its reason
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        return ""
    # Format versions above 2 make SQLite open the file read-only (write) or not at all (read):
    # every later write would fail as "read-only", which is damage, not a permissions problem.
    if head[18] not in (1, 2) or head[19] not in (1, 2):
        return f"unknown file format version in the header (write {head[18]}, read {head[19]})"
    if head[24:28] != head[92:96]:
        return ""
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    if page_size and pages and size < page_size * pages:
        return f"truncated: {size} bytes, the header says {pages} pages of {page_size}"
    return ""


def sqlite_failure(path: Path, exc: BaseException) -> SyndicateError | None:
    """What an SQLite error on the state database means for the operator, or None if it is a bug of ours."""
    if isinstance(exc, UnicodeDecodeError):
        return StateDamagedError(str(path), "SQLite reported damage in bytes that are not text")
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if "Could not decode to UTF-8" in text:
        # The message quotes the garbage itself: name the column, not the bytes.
        column = text.split(" with text ")[0].lower()
        return StateDamagedError(str(path), f"{column}: a page holds bytes we never wrote")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text:
        return StateDamagedError(str(path), text)
    if primary == _SQLITE_FULL or (primary == _SQLITE_IOERR and _out_of_space(path)):
        return DiskFullError(str(path), "disk full: the state database cannot grow; nothing was half-written")
    if primary in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
        return NotWritableError(str(path), f"cannot write the state database ({text}): check the folder's permissions")
    return None


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


def utc_stamp(moment: datetime) -> str:
    """A moment as the state database stores it: ISO 8601 in UTC to the second, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
