"""Checking, backing up and restoring the state database file.

The state database holds what cannot be rebuilt from the site's files: the
subscribers, the send ledger (who got which issue) and the permanent ids of
articles. These functions work on the file itself, without migrating it, so
they can look at a damaged one; backups use SQLite's online backup API, which
copies a consistent snapshot while cron or ``serve`` keep using the database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .._errors import StateDamagedError, StoreError, TargetExistsError, WriteError
from .database import SQLITE_FAILURES, SQLITE_MAGIC, missing_pages, sqlite_failure

# integrity_check stops after this many findings: enough to see the damage, not a screenful per page.
MAX_FINDINGS = 20


@dataclass(frozen=True)
class CheckStep:
    """One check of the file: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    findings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StateCheck:
    """The result of :func:`check_state`."""

    path: Path
    steps: list[CheckStep]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def as_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "checks": [{"name": s.name, "ok": s.ok, "findings": s.findings} for s in self.steps],
        }


@dataclass(frozen=True)
class BackupResult:
    """A finished backup (or restore): the file written, its pages and size."""

    source: Path
    target: Path
    pages: int
    bytes: int
    set_aside: Path | None = None  # restore only: where the replaced database was kept

    def as_json(self) -> dict[str, object]:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "pages": self.pages,
            "bytes": self.bytes,
            "set_aside": str(self.set_aside) if self.set_aside else None,
        }


def check_state(path: str | os.PathLike[str], *, quick: bool = False) -> StateCheck:
    """Check the SQLite file at ``path``: header, page integrity, foreign keys.

    ``quick`` runs ``PRAGMA quick_check`` (skips index contents; fast on a
    large file) instead of ``integrity_check``. Never raises for damage: the
    damage is the result.
    """
    database = Path(path)
    steps: list[CheckStep] = []
    header = _header_step(database)
    steps.append(header)
    if not header.ok:
        return StateCheck(database, steps)
    try:
        connection = _open_read_only(database)
    except SQLITE_FAILURES as exc:
        steps.append(CheckStep("open", False, [str(exc)]))
        return StateCheck(database, steps)
    try:
        pragma = "quick_check" if quick else "integrity_check"
        steps.append(_pragma_step(connection, pragma, f"PRAGMA {pragma}({MAX_FINDINGS})", ok_row="ok"))
        steps.append(_pragma_step(connection, "foreign_key_check", "PRAGMA foreign_key_check"))
    finally:
        connection.close()
    return StateCheck(database, steps)


def backup_state(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, force: bool = False
) -> BackupResult:
    """Copy the live database at ``source`` to ``target``, safely while other processes use it.

    The copy is written to a temporary file beside ``target``, checked, then
    renamed into place: a crash or a full disk leaves no half backup. An
    existing ``target`` is replaced only with ``force``. A damaged source
    raises :class:`StateDamagedError` (its copy would be damaged too).
    """
    source_path, target_path = Path(source), Path(target)
    if not source_path.is_file():
        raise StoreError(f"{source_path}: no state database here to back up")
    if target_path.resolve() == source_path.resolve():
        raise TargetExistsError(f"{target_path}: is the live database itself; back up to another path")
    if target_path.exists() and not force:
        raise TargetExistsError(f"{target_path} already exists: pass --force to replace it")
    try:
        live = sqlite3.connect(source_path, timeout=30.0)
    except SQLITE_FAILURES as exc:
        raise StateDamagedError(str(source_path), str(exc)) from exc
    try:
        pages = _copy_checked(live, target_path, damaged_name=source_path)
    finally:
        live.close()
    return BackupResult(source_path, target_path, pages, target_path.stat().st_size)


def restore_state(
    backup: str | os.PathLike[str], database: str | os.PathLike[str], *, now: datetime | None = None
) -> BackupResult:
    """Put the backup at ``backup`` in place of the state database at ``database``.

    The backup is checked first; the database it replaces (damaged or not) is
    kept beside it as ``<name>.before-restore-<UTC time>`` with its WAL, never
    deleted. Stop cron and ``syndicate serve`` first: a process holding the old
    file open would keep writing to the file set aside.
    """
    backup_path, database_path = Path(backup), Path(database)
    verdict = check_state(backup_path)
    if not verdict.ok:
        failed = next(step for step in verdict.steps if not step.ok)
        raise StateDamagedError(str(backup_path), f"{failed.name}: {'; '.join(failed.findings[:3])}")
    source = _open_read_only(backup_path)
    try:
        staged = database_path.with_name(f".{database_path.name}.restoring")
        pages = _copy_checked(source, staged, damaged_name=backup_path)
    finally:
        source.close()
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside: Path | None = None
    try:
        if database_path.exists():
            aside = database_path.with_name(f"{database_path.name}.before-restore-{stamp}")
            os.replace(database_path, aside)
        # The old file's WAL and shared memory belong to it: left here, SQLite would replay them into the restored file.
        for suffix in ("-wal", "-shm"):
            companion = database_path.with_name(database_path.name + suffix)
            if companion.exists():
                if aside is not None:
                    os.replace(companion, aside.with_name(aside.name + suffix))
                else:
                    companion.unlink()
        os.replace(staged, database_path)
    except OSError as exc:
        raise WriteError.from_os_error(str(database_path), exc) or StoreError(f"{database_path}: {exc}") from exc
    return BackupResult(backup_path, database_path, pages, database_path.stat().st_size, aside)


def _header_step(database: Path) -> CheckStep:
    try:
        with database.open("rb") as handle:
            head = handle.read(100)
    except FileNotFoundError:
        return CheckStep("header", False, [f"{database}: no such file"])
    except OSError as exc:
        return CheckStep("header", False, [f"{database}: {exc.strerror or exc}"])
    if not head.startswith(SQLITE_MAGIC):
        return CheckStep("header", False, ["not an SQLite database (the first 16 bytes are not SQLite's)"])
    # SQLite itself would only notice when a query reaches a missing page, if at all.
    missing = missing_pages(database)
    return CheckStep("header", False, [missing]) if missing else CheckStep("header", True)


def _open_read_only(database: Path) -> sqlite3.Connection:
    # mode=ro: checking must never create, migrate or "repair" the file it looks at.
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
    # integrity_check quotes damaged cells, which need not be UTF-8: show them, don't fail on them.
    connection.text_factory = lambda raw: raw.decode("utf-8", "backslashreplace")
    return connection


def _pragma_step(connection: sqlite3.Connection, name: str, sql: str, ok_row: str | None = None) -> CheckStep:
    try:
        rows = connection.execute(sql).fetchall()
    except SQLITE_FAILURES as exc:
        return CheckStep(name, False, [str(exc)])
    # Newer SQLite returns integrity_check's findings as one row of lines; older ones as a row each.
    lines = "\n".join(" ".join(str(cell) for cell in row) for row in rows).splitlines()
    findings = [line for line in lines if line.strip() and not line.startswith("*** in database")]
    if ok_row is not None and findings == [ok_row]:
        findings = []
    return CheckStep(name, not findings, findings[:MAX_FINDINGS])


def _copy_checked(source: sqlite3.Connection, target: Path, *, damaged_name: Path) -> int:
    """Copy ``source`` into a temporary file, check it, rename it to ``target``; return its page count."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise WriteError.from_os_error(str(target), exc) or StoreError(f"{target}: {exc}") from exc
    temp = Path(temp_name)
    try:
        copy = sqlite3.connect(temp)
        try:
            # One step (pages=-1) reads one consistent snapshot; in WAL mode writers go on meanwhile.
            # Stepping would restart the copy whenever another connection writes.
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
            verdict = copy.execute("PRAGMA quick_check").fetchall()
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        finally:
            copy.close()
        if verdict != [("ok",)]:
            detail = "; ".join(str(row[0]) for row in verdict[:3])
            raise StateDamagedError(str(damaged_name), detail)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except SQLITE_FAILURES as exc:
        error = sqlite_failure(damaged_name, exc) or StoreError(f"{damaged_name}: {exc}")
        if isinstance(error, WriteError):  # full or read-only: that is the backup's folder, not the source
            error = type(error)(str(target), error.reason)
        raise error from exc
    except OSError as exc:
        raise WriteError.from_os_error(str(target), exc) or StoreError(f"{target}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return pages
