"""State tables for related (filled in by the issue that needs them)."""

from __future__ import annotations

from .database import Migration

MIGRATIONS: list[Migration] = []
