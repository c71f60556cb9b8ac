"""Atomic, change-aware file writes.

Readers (web servers, feed readers polling) must never see a half-written
file, so every output is written to a temporary file in the same folder and
renamed over the target. A file whose bytes would not change is left alone,
keeping its mtime, so web servers keep serving the same ETag.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ._errors import WriteError


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, durable: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically; return False if it was unchanged.

    ``durable`` flushes the data to disk before the rename, so a crash cannot
    leave an empty file behind. Generated outputs that the next build checks
    and rewrites anyway (feeds: their size and mtime are recorded) may skip it:
    one fsync per file is most of the wall time of writing a thousand feeds.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return _reporting_failures(target, lambda: _replace(target, payload, durable=durable))


def write_atomic_chunks(path: str | os.PathLike[str], chunks: Iterable[bytes], *, durable: bool = True) -> bool:
    """:func:`write_atomic` for a document made a piece at a time, never whole in memory.

    The pieces go to the temporary file as they come; when the result is the
    file already there, byte for byte, the temporary file is dropped and the
    target keeps its mtime (False is returned), as with :func:`write_atomic`.
    """
    target = Path(path)
    return _reporting_failures(target, lambda: _replace_streamed(target, chunks, durable=durable))


def _reporting_failures(target: Path, write: Callable[[], bool]) -> bool:
    try:
        return write()
    except OSError as exc:
        # A read-only folder or a full disk is the operator's to fix: say so, naming the path,
        # instead of a traceback. The temporary file is already gone and the target untouched.
        error = WriteError.from_os_error(str(target), exc)
        if error is None:
            raise
        raise error from exc


def _replace_streamed(target: Path, chunks: Iterable[bytes], *, durable: bool, compare: bool = True) -> bool:
    """Write ``chunks`` to a temporary file and rename it over ``target``.

    With ``compare``, a result equal to the file already there is dropped
    instead (False is returned), so the target keeps its mtime.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            try:
                unchanged = compare and filecmp.cmp(temp_name, target, shallow=False)
            except (FileNotFoundError, NotADirectoryError):
                unchanged = False
            # Only a file that will replace the target is forced to disk: an unchanged one is
            # dropped, and a rebuild that changes nothing should not wait on the disk for it.
            if durable and not unchanged:
                os.fsync(handle.fileno())
        if unchanged:
            os.unlink(temp_name)
            return False
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return True


def _replace(target: Path, payload: bytes, *, durable: bool) -> bool:
    # The whole document is at hand: compare it with the file before writing anything.
    try:
        if target.stat().st_size == len(payload) and target.read_bytes() == payload:
            return False
    except (FileNotFoundError, NotADirectoryError):
        pass
    return _replace_streamed(target, (payload,), durable=durable, compare=False)
