"""Every document's computed picks at once, as sparse-matrix arithmetic.

:meth:`DocumentIndex.related` answers one query in Python: it counts shared
inverted lists, keeps the best ``limit`` candidates and scores them. Doing
that for each of 10,000 documents costs seconds of interpreter time, so
:func:`related_all` does the same steps for blocks of documents with numpy and
scipy.sparse, step for step:

1. Candidates: ``queries @ postings.T`` counts, for every pair, the shared
   rare-term lists (a query follows its first ``QUERY_TERMS`` terms), plus
   three per shared rare tag or title name; the best ``limit`` per row, ties by
   slug, are the same candidates the one-query path finds.
2. Exact scores of those candidates: the dot product of the truncated vectors,
   the rarity-weighted shared tags and names, recency and same author.
3. Ranking (score, then newer, then slug) and the copies filter run in Python
   over the few best of each row only.

A row whose shortlist was eaten by the copies filter is left out of the
result; the caller answers it with the one-query path, which widens its
shortlist.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from itertools import compress
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from .document_index import DocumentIndex
    from .documents import Document

T = TypeVar("T")
Reasons = tuple[tuple[str, float], ...]

Matrix = Any  # scipy.sparse.csr_matrix (scipy ships no type information)
# Query rows per block: bounds the memory of the candidate-count product.
BLOCK_ROWS = 256
# Ranked candidates per row handed to the copies filter beyond k; a row needing more is answered alone.
COPIES_SLACK = 3


def _binary(rows: list[list[int]], columns: int) -> Matrix:
    """A 0/1 CSR matrix with a row per list of column ids."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)  # 0/1 and small counts are exact in float32: half the traffic
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), columns))


def _rarity(df: np.ndarray[Any, Any], documents: int) -> np.ndarray[Any, Any]:
    """:func:`signals.rarity` over an array of document frequencies."""
    if documents <= 2:
        return np.ones(len(df))
    with np.errstate(divide="ignore"):
        value = np.maximum(0.0, np.log(documents / np.maximum(df, 1)) / np.log(documents / 2))
    return np.where(df <= 2, 1.0, value)


def _shortlists(counts: Matrix, row_ids: Any, limit: int) -> tuple[Any, Any, Any]:
    """Per row of ``counts`` (row ``i`` is document ``row_ids[i]``), its ``limit`` best columns.

    Best by count, ties by column (slug order), never the row's own
    document: what :meth:`DocumentIndex.candidates` picks. Counts are small
    integers, so a per-row histogram finds each row's cut in a few array
    passes instead of sorting every entry. Returns the (local row, column) pairs
    and, per row, whether the shortlist was cut at ``limit``.
    """
    height = counts.shape[0]
    per_row = np.diff(counts.indptr)
    local = np.repeat(np.arange(height), per_row)
    cols = counts.indices
    values = counts.data.astype(np.int64)  # sums of 1s and 3s: exact in floating point
    keep = (cols != row_ids[local]) & (values > 0)
    local, cols, values = local[keep], cols[keep], values[keep]
    if not len(values):
        return local, cols, np.zeros(height, dtype=bool)
    top = int(values.max())
    histogram = np.bincount(local * (top + 1) + values, minlength=height * (top + 1)).reshape(height, top + 1)
    at_least = np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1]  # [row, c]: entries counting c or more
    enough = at_least >= limit
    cut = np.where(enough.any(axis=1), top - np.argmax(enough[:, ::-1], axis=1), 0)
    row_cut = cut[local]
    sure = np.flatnonzero(values > row_cut)
    room = limit - np.bincount(local[sure], minlength=height)
    # Entries at a row's cut: the lowest columns (slugs) fill its remaining room.
    tied = np.flatnonzero(values == row_cut)
    tied = tied[np.argsort(local[tied] * counts.shape[1] + cols[tied], kind="stable")]
    tied_rows = local[tied]
    tied_rank = np.arange(len(tied)) - np.searchsorted(tied_rows, np.arange(height))[tied_rows]
    chosen = np.concatenate((sure, tied[tied_rank < room[tied_rows]]))
    full = np.bincount(local, minlength=height) >= limit
    return local[chosen], cols[chosen].astype(np.int64), full


def _queries(postings: Matrix, term_df: Any, cap: int, term_order: Any) -> tuple[Matrix, Matrix]:
    """The terms each document's query follows, as 0/1 matrices: what :meth:`DocumentIndex.candidates` reads.

    Its first ``QUERY_TERMS`` terms (``postings`` keeps each row in weight
    order) whose lists are no longer than ``cap``; a row with fewer than
    ``MIN_LISTS`` of those also follows its least common other terms (ties by
    term: ``term_order`` is each column's place in term order). Returned apart, rare
    and common, because only the head of a common term's list is read.
    """
    from .document_index import MIN_LISTS, QUERY_TERMS

    height = postings.shape[0]
    per_row = np.diff(postings.indptr)
    rows = np.repeat(np.arange(height), per_row)
    ids = postings.indices
    head = (np.arange(len(ids)) - postings.indptr[:-1][rows]) < QUERY_TERMS
    rare = head & (term_df[ids] <= cap)
    need = np.maximum(0, MIN_LISTS - np.bincount(rows[rare], minlength=height))
    common = np.flatnonzero(head & ~rare & (need[rows] > 0))
    # Least common first, ties by term, within each row.
    common = common[np.lexsort((term_order[ids[common]], term_df[ids[common]], rows[common]))]
    common_rows = rows[common]
    rank = np.arange(len(common)) - np.searchsorted(common_rows, np.arange(height))[common_rows]
    chosen_rare = np.flatnonzero(rare)
    chosen_common = common[rank < need[common_rows]]
    return tuple(  # type: ignore[return-value]
        sparse.csr_matrix((np.ones(len(chosen), dtype=np.float32), (rows[chosen], ids[chosen])), shape=postings.shape)
        for chosen in (chosen_rare, chosen_common)
    )


def _list_heads(postings: Matrix, read: int) -> Matrix:
    """``postings`` with each term's list cut to its first ``read`` documents (rows are in slug order)."""
    by_term = postings.tocsc()
    by_term.sort_indices()
    columns = np.repeat(np.arange(by_term.shape[1]), np.diff(by_term.indptr))
    rank = np.arange(by_term.nnz) - by_term.indptr[:-1][columns]
    keep = rank < read
    heads = sparse.csc_matrix(
        (
            by_term.data[keep],
            by_term.indices[keep],
            np.concatenate(([0], np.cumsum(np.bincount(columns[keep], minlength=by_term.shape[1])))),
        ),
        shape=by_term.shape,
    )
    return heads.tocsr()


class _Keys:
    """Ids for the terms, tags or names of the documents, in first-seen order."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def rows(self, keys_per_document: list[tuple[str, ...]] | list[list[str]]) -> list[list[int]]:
        ids = self.ids
        return [[ids.setdefault(key, len(ids)) for key in keys] for keys in keys_per_document]


def related_all(
    index: DocumentIndex,
    k: int,
    only: AbstractSet[str] | None,
    make: Callable[[Document, float, Reasons], T],
) -> dict[str, list[T]]:
    """The ``k`` best computed picks of every document (excluding only itself and copies of it).

    Each pick is ``make(document, score, reasons)``: the caller's own record
    (a :class:`~.document_index.Scored`, a ``RelatedPick``), built once.
    Documents whose shortlist the copies filter emptied below ``k`` are
    missing from the result (see the module notes). With ``only``, just those
    documents are answered: each row's arithmetic involves no other query row,
    so its answer is bit for bit the one a run over every document gives it.
    """
    from .._parallel import paused_gc
    from .document_index import _PART_NAMES, COMMON_READ, _ranks_by_term
    from .parallel import PARALLEL_MIN_ITEMS, fork_map

    if k <= 0 or not index.documents:
        return {slug: [] for slug in index.documents if only is None or slug in only}
    slugs = sorted(index.documents)  # column order = slug order: ties by slug fall out of a stable sort
    documents = [index.documents[slug] for slug in slugs]
    n = len(slugs)
    w = index.weights
    cap = index._list_cap()
    limit = max(index.config.candidates, 4 * k) + 1  # as DocumentIndex.related with only the document excluded

    # -- the truncated vectors and the postings of their terms -----------------
    vectors = [index.vectors.get(slug) or index.vectorise(d.features) for slug, d in zip(slugs, documents, strict=True)]
    # Columns: the terms in use, renumbered densely; each row heaviest first, as the vectors are.
    numbers = np.frombuffer(b"".join(v.terms for v in vectors), dtype=np.uint32)
    used = np.unique(numbers)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, vectors), dtype=np.int64, count=n), out=indptr[1:])
    indices = np.searchsorted(used, numbers).astype(np.int32)
    postings = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n, len(used)))
    weights = sparse.csr_matrix(
        (np.frombuffer(b"".join(v.weights for v in vectors), dtype=np.float64), indices, indptr), shape=(n, len(used))
    )
    term_df = np.bincount(indices, minlength=len(used))

    # The terms each query follows: its first QUERY_TERMS rare ones, or the least common few,
    # of whose lists only the heads are read.
    rare_queries, common_queries = _queries(postings, term_df, cap, _ranks_by_term(used.tolist()))
    heads = _list_heads(postings, COMMON_READ * cap) if common_queries.nnz else postings

    tags = _Keys()
    tag_matrix = _binary(tags.rows([d.tags for d in documents]), len(tags.ids))
    names = _Keys()
    name_matrix = _binary(names.rows([d.features.names for d in documents]), len(names.ids))
    tag_df = np.bincount(tag_matrix.indices, minlength=len(tags.ids))
    name_df = np.bincount(name_matrix.indices, minlength=len(names.ids))
    # A shared rare tag or title name counts as much as three shared terms.
    rare_keys = sparse.hstack(
        [
            tag_matrix @ sparse.diags(np.float32(3.0) * (tag_df <= cap)),
            name_matrix @ sparse.diags(np.float32(3.0) * (name_df <= cap)),
        ]
    ).tocsr()
    key_postings = sparse.hstack([tag_matrix, name_matrix]).tocsr()

    # -- what exact scoring needs, per document --------------------------------
    tag_weighted = (tag_matrix @ sparse.diags(_rarity(tag_df, n))).tocsr()
    name_weighted = (name_matrix @ sparse.diags(_rarity(name_df, n))).tocsr()
    tag_scale = w.tags / np.maximum(1.0, np.asarray(tag_weighted.sum(axis=1)).ravel())
    name_scale = w.names / np.maximum(1.0, np.asarray(name_weighted.sum(axis=1)).ravel())
    published = np.array([d.published for d in documents], dtype=np.float64)
    author_ids: dict[str | None, int] = {None: -1}
    authors = np.array([author_ids.setdefault(d.author, len(author_ids)) for d in documents], dtype=np.int64)

    title_of = [d.title_key for d in documents]
    url_of = [d.url for d in documents]
    # The lists as rows (term by document), made once: ``queries @ postings.T`` would have scipy
    # convert the transpose to CSR again for every block. Counts are small integers, exact in float32.
    postings_by_term = postings.T.tocsr()
    heads_by_term = heads.T.tocsr() if heads is not postings else postings_by_term
    keys_by_key = key_postings.T.tocsr()

    def block(number: int) -> tuple[list[int], list[int], list[int], list[float], list[list[float]]]:
        """Block ``number`` of the query rows: the rows answered and their picks, as plain lists (cheap to send)."""
        block_rows = query_rows[number * BLOCK_ROWS : (number + 1) * BLOCK_ROWS]
        height = len(block_rows)
        counts = (
            rare_queries[block_rows] @ postings_by_term
            + common_queries[block_rows] @ heads_by_term
            + rare_keys[block_rows] @ keys_by_key
        ).tocsr()
        local, cols, full = _shortlists(counts, block_rows, limit)
        rows = block_rows[local]

        text = w.text * np.asarray(weights[rows].multiply(weights[cols]).sum(axis=1)).ravel()
        shared_tags = tag_scale[rows] * np.asarray(tag_weighted[rows].multiply(tag_matrix[cols]).sum(axis=1)).ravel()
        shared_names = (
            name_scale[rows] * np.asarray(name_weighted[rows].multiply(name_matrix[cols]).sum(axis=1)).ravel()
        )
        recency = (
            w.recency * np.power(0.5, np.abs(published[rows] - published[cols]) / w.half_life_seconds)
            if w.recency
            else np.zeros(len(rows))
        )
        same_author = np.where((authors[rows] == authors[cols]) & (authors[rows] >= 0), w.author, 0.0)
        signal = (text > 0) | (shared_tags > 0) | (shared_names > 0)
        total = text + shared_tags + shared_names + recency + same_author
        ranked = signal & (total > 0)
        local, rows, cols = local[ranked], rows[ranked], cols[ranked]
        parts = np.column_stack((text, shared_tags, shared_names, recency, same_author))[ranked]
        total = total[ranked]
        # Best first: score, then newer, then slug; only the first few of a row go on to Python.
        order = np.lexsort((cols, -published[cols], -total, local))
        local, cols, total, parts = local[order], cols[order], total[order], parts[order]
        bounds = np.searchsorted(local, np.arange(height + 1))
        rank = np.arange(len(local)) - np.repeat(bounds[:-1], bounds[1:] - bounds[:-1])
        in_head = rank < k + COPIES_SLACK
        more = (bounds[1:] - bounds[:-1]) > k + COPIES_SLACK  # rows whose head might run out
        head_rows = local[in_head]
        head_bounds: list[int] = np.searchsorted(head_rows, np.arange(height + 1)).tolist()
        total_list: list[float] = total[in_head].tolist()
        parts_list: list[list[float]] = parts[in_head].tolist()
        cols_list: list[int] = cols[in_head].tolist()
        cut: list[bool] = (full | more).tolist()
        # The copies filter, here in the worker: never two stories with one headline or URL.
        answered: list[int] = []
        bounds_out: list[int] = [0]
        picked_cols: list[int] = []
        picked_totals: list[float] = []
        picked_parts: list[list[float]] = []
        for at_row, row in enumerate(block_rows.tolist()):
            titles = {title_of[row]}
            urls = {url_of[row]}
            picked = 0
            for at in range(head_bounds[at_row], head_bounds[at_row + 1]):
                col = cols_list[at]
                if title_of[col] in titles or url_of[col] in urls:
                    continue
                titles.add(title_of[col])
                urls.add(url_of[col])
                picked_cols.append(col)
                picked_totals.append(total_list[at])
                picked_parts.append(parts_list[at])
                picked += 1
                if picked == k:
                    break
            if picked == k or not cut[at_row]:
                answered.append(row)
                bounds_out.append(len(picked_cols))
            else:  # its shortlist ran out: the caller answers it alone
                del picked_cols[len(picked_cols) - picked :]
                del picked_totals[len(picked_totals) - picked :]
                del picked_parts[len(picked_parts) - picked :]
        return answered, bounds_out, picked_cols, picked_totals, picked_parts

    # The documents to answer, as row numbers (all of them unless ``only`` says otherwise).
    query_rows = np.arange(n) if only is None else np.flatnonzero([slug in only for slug in slugs])
    blocks = -(-len(query_rows) // BLOCK_ROWS)
    # Blocks are independent: over the cores for a large index (workers send back only the heads).
    workers = index.config.workers if len(query_rows) >= PARALLEL_MIN_ITEMS else 1
    answers = fork_map(block, blocks, workers, per_process=1, min_items=2)
    found: dict[str, list[T]] = {}
    with paused_gc():  # every pick made here lives on: a full collection would only walk them
        for answered, bounds_out, picked_cols, picked_totals, picked_parts in answers:
            # Every share is >= 0, so the non-zero ones are the signals that counted (kept in C:
            # one of these per pick, half a million for 100,000 articles).
            picks = [
                make(documents[col], total, tuple(compress(zip(_PART_NAMES, part, strict=True), part)))
                for col, total, part in zip(picked_cols, picked_totals, picked_parts, strict=True)
            ]
            for row, a, b in zip(answered, bounds_out, bounds_out[1:], strict=False):
                found[documents[row].slug] = picks[a:b]
    return found
