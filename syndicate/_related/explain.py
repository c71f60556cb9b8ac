"""Why a story was picked: each signal's contribution, for people and for scripts."""

from __future__ import annotations

from .._model import RelatedPick
from .signals import AUTHOR, EDITOR, NAMES, RECENCY, SIGNALS, TAGS, TEXT

LABELS = {
    EDITOR: "editor's pick",
    TEXT: "similar text",
    TAGS: "shared rare tags",
    NAMES: "same names in titles",
    RECENCY: "close in time",
    AUTHOR: "same author",
}
COLUMNS = (EDITOR, *SIGNALS)


def contributions(pick: RelatedPick) -> dict[str, float]:
    """Every signal's share of the pick's score (0 where it did not count)."""
    found = dict(pick.reasons)
    return {signal: round(found.get(signal, 0.0), 4) for signal in COLUMNS}


def explain_line(pick: RelatedPick) -> str:
    """One line: the contributing signals, largest first."""
    if pick.editor_pick:
        return LABELS[EDITOR]
    parts = sorted(pick.reasons, key=lambda item: -item[1])
    return ", ".join(f"{LABELS.get(name, name)} {share:.3f}" for name, share in parts if share > 0)


def pick_json(pick: RelatedPick, explain: bool = False) -> dict[str, object]:
    """A pick for ``--json`` output (with ``reasons`` when explaining)."""
    data: dict[str, object] = {
        "slug": pick.slug,
        "title": pick.title,
        "url": pick.url,
        "score": round(pick.score, 4),
        "editor_pick": pick.editor_pick,
    }
    if explain:
        data["reasons"] = contributions(pick)
    return data
