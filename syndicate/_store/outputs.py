"""Fingerprints of written output files, so unchanged outputs are not regenerated.

A feed's fingerprint covers everything it is made from (its items' content
hashes, the config, the templates); when it matches the stored one and the
file on disk still has the size and mtime we left it with, the feed is skipped.

The build manifest goes one step further: it records a signature of every
input of a build (each article file's size and mtime, the config, the
templates) and the window of time in which the set of published articles
stays the same, so a rebuild with nothing changed loads nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "outputs_0001_fingerprints",
        """
        CREATE TABLE output_fingerprints (
            path TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            content_hash TEXT NOT NULL
        )
        """,
    ),
    (
        "outputs_0002_build_manifest",
        """
        CREATE TABLE build_manifest (
            out_dir TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            valid_from REAL NOT NULL,
            valid_until REAL NOT NULL,
            summary TEXT NOT NULL
        )
        """,
    ),
]


@dataclass(frozen=True)
class BuildManifest:
    """The inputs of the last build into one folder and when its output stays right.

    ``valid_from``/``valid_until`` are POSIX timestamps: the newest published
    article's date and the next scheduled (future-dated) article's date.
    ``summary`` is the JSON the build step stores to report a skipped build.
    """

    out_dir: str
    signature: str
    valid_from: float
    valid_until: float
    summary: str


class OutputFingerprints:
    """Per-file fingerprints of outputs, and per-folder build manifests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> dict[str, tuple[str, str]]:
        """``{path: (fingerprint, content_hash)}`` for every recorded output."""
        return {
            row["path"]: (row["fingerprint"], row["content_hash"])
            for row in self._db.query("SELECT path, fingerprint, content_hash FROM output_fingerprints")
        }

    def record_many(self, rows: list[tuple[str, str, str]]) -> None:
        """Store ``(path, fingerprint, content_hash)`` rows."""
        if not rows:
            return
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO output_fingerprints (path, fingerprint, content_hash) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "content_hash = excluded.content_hash",
                rows,
            )

    def manifest(self, out_dir: str) -> BuildManifest | None:
        """The manifest of the last complete build into ``out_dir``, if any."""
        rows = self._db.query(
            "SELECT out_dir, signature, valid_from, valid_until, summary FROM build_manifest WHERE out_dir = ?",
            (out_dir,),
        )
        return BuildManifest(**dict(rows[0])) if rows else None

    def record_manifest(self, manifest: BuildManifest) -> None:
        """Store the manifest of a complete build, replacing the folder's previous one."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO build_manifest (out_dir, signature, valid_from, valid_until, summary) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(out_dir) DO UPDATE SET signature = excluded.signature, "
                "valid_from = excluded.valid_from, valid_until = excluded.valid_until, summary = excluded.summary",
                (manifest.out_dir, manifest.signature, manifest.valid_from, manifest.valid_until, manifest.summary),
            )

    def forget_manifest(self, out_dir: str) -> None:
        """Drop a folder's manifest, so its next build loads everything."""
        self._db.execute("DELETE FROM build_manifest WHERE out_dir = ?", (out_dir,))
