"""The stem of an article file's path (its name without the suffix): the slug an article has by default."""

from __future__ import annotations

from pathlib import PurePath


def file_stem(path: str) -> str:
    """``PurePath(path).stem``, without building a path object for each of thousands of articles."""
    name = path.rpartition("/")[2]
    if name in ("", "."):
        return PurePath(path).stem  # a trailing "/" or "/.": PurePath drops it and names the folder
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name
