"""The signals that say two stories are related, and how they are weighed.

Each signal is a number in [0, 1]; the score of a pair is their weighted sum
divided by the sum of the weights, so computed scores stay in [0, 1] and an
editor's pick (scored 1.0) always sorts first. The contribution of each signal
(its weighted share of the score) is kept as the pick's ``reasons``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import mul

from .._config import RelatedConfig

TEXT = "text"
TAGS = "tags"
NAMES = "names"
RECENCY = "recency"
AUTHOR = "author"
EDITOR = "editor"
SIGNALS = (TEXT, TAGS, NAMES, RECENCY, AUTHOR)

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Weights:
    """The ``[related]`` weights, each divided by their sum."""

    text: float
    tags: float
    names: float
    recency: float
    author: float
    half_life_seconds: float

    @classmethod
    def from_config(cls, config: RelatedConfig) -> Weights:
        raw = (config.text_weight, config.tag_weight, config.name_weight, config.recency_weight, config.author_weight)
        total = sum(raw) or 1.0
        text, tags, names, recency, author = (w / total for w in raw)
        return cls(text, tags, names, recency, author, config.half_life_days * DAY)


def rarity(document_frequency: int, documents: int) -> float:
    """How telling a shared tag or name is: 1 when only two stories have it, towards 0 when all do."""
    if documents <= 2 or document_frequency <= 2:
        return 1.0
    return max(0.0, math.log(documents / document_frequency) / math.log(documents / 2))


def shared_share(mine: Iterable[str], theirs: Iterable[str], weight_of: Mapping[str, float]) -> float:
    """The rarity-weighted share of my tags (or names) the other story also has.

    Divided by ``max(1, my total)``: one common tag shared is worth little, one
    rare tag a lot, and an article with many rare tags needs several shared.
    """
    mine_set = set(mine)
    if not mine_set:
        return 0.0
    shared = mine_set.intersection(theirs)
    if not shared:
        return 0.0
    total = sum(weight_of.get(item, 1.0) for item in mine_set)
    return sum(weight_of.get(item, 1.0) for item in shared) / max(1.0, total)


def closeness_in_time(seconds_apart: float, half_life_seconds: float) -> float:
    """1 for stories published together, halving every half-life apart."""
    return float(0.5 ** (abs(seconds_apart) / half_life_seconds))


def cosine(mine: Mapping[str, float], theirs: Mapping[str, float], my_terms: set[str] | None = None) -> float:
    """Dot product of two unit-normalised sparse vectors.

    ``my_terms`` (``set(mine)``, made once per query) lets the intersection run in C
    over the other vector's keys without building a set per pair.
    """
    shared = (my_terms if my_terms is not None else set(mine)).intersection(theirs)
    if not shared:
        return 0.0
    return float(sum(map(mul, map(mine.__getitem__, shared), map(theirs.__getitem__, shared))))
