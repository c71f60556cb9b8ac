"""Related stories: how good the computed picks are, and how fast the index is.

Run from the repository root:

    .venv/bin/python bench/related_bench.py                # quality + 10,000 and 50,000 articles
    .venv/bin/python bench/related_bench.py --sizes 10000   # a quicker run
    .venv/bin/python bench/related_bench.py --quality-only

Quality: every article with editor picks has them hidden (the engine's
computed picks never look at them; the sentences of its text that quote a
picked headline are removed too, so nothing leaks), and we measure how well the
computed top 5 recover them: recall@3, recall@5 and MRR. The same is done on a
labelled synthetic collection (clusters of stories sharing a person, a film
title, topic words and a rare tag, amid unrelated stories).

Speed: for synthetic collections of realistic ~800-word articles with hundreds
of tags, the time to tokenise and index every article, the time for every
article's top 5, peak memory (each size runs in its own process), and the time
to add one article. Side by side, the baseline: brute-force all-pairs cosine
on the same full TF-IDF vectors (scipy sparse, in chunks), timed on every row
for 10,000 and, for 50,000, on a sample of rows and extrapolated. The overlap
of the fast path's text-only top 5 with the baseline's top 5 shows what the
shortcut costs.

The baseline needs numpy and scipy (``pip install -e '.[bench]'``); without
them it is skipped and said so.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import re
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syndicate._collection import Collection
from syndicate._config import RelatedConfig, load_config
from syndicate._model import Article, Author, Tag
from syndicate._parallel import paused_gc
from syndicate._related import Document, DocumentIndex, RelatedIndex, article_document
from syndicate._related.documents import features_of_all
from syndicate._related.parallel import available_workers
from syndicate._slugs import headline_key

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)

# -- the synthetic collection ------------------------------------------------

_SYLLABLES = [
    c + v
    for c in ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "pl")
    for v in ("a", "e", "i", "o", "u", "ai", "ou")
]
_FILLER = str.split(
    "the of and to in a is that for on with as was at by it from his her their this an be are has have said "
    "were which but not they who after also its film director festival new one about more when than first "
    "would been will into there what out time up two people could over year"
)


def _words(rng: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(*syllables)))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


@dataclass
class Synthetic:
    articles: list[Article]
    cluster_of: dict[str, int]  # slug -> cluster id (-1: unrelated to any other)


def synthetic_collection(size: int, seed: int = 7, words_per_article: int = 800) -> Synthetic:
    """``size`` articles: about half in clusters of 2-6 stories on one subject, half on their own.

    Background words follow a Zipf law over 40,000 words plus everyday filler;
    a cluster shares a person, a quoted film title, eight topic words (used
    ~3% of its text, and elsewhere at background rates) and usually a rare tag;
    tags (400) and authors (60) are spread with a skew, so tags alone do not
    identify a cluster.
    """
    rng = random.Random(seed)
    vocabulary = _words(rng, 40_000, (2, 4))
    # Everyday filler makes up about a quarter of the words, the Zipf-distributed vocabulary the rest.
    zipf = [1.0 / (rank + 10) ** 1.05 for rank in range(len(vocabulary))]
    filler_weight = sum(zipf) / 3 / len(_FILLER)
    population = vocabulary + _FILLER
    cumulative: list[float] = []
    total = 0.0
    for weight in zipf + [filler_weight] * len(_FILLER):
        total += weight
        cumulative.append(total)
    tags = [Tag(f"Tag {name.title()}", f"tag-{name}") for name in _words(rng, 400, (2, 3))]
    tag_cumulative: list[float] = []
    total = 0.0
    for rank in range(len(tags)):
        total += 1.0 / (rank + 3)
        tag_cumulative.append(total)
    author_words = _words(rng, 120, (2, 3))
    authors = [
        Author(f"{a.title()} {b.title()}", f"{a}-{b}")
        for a, b in zip(author_words[::2], author_words[1::2], strict=True)
    ]
    name_words = _words(rng, 2 * size, (2, 3))
    names = [f"{a.title()} {b.title()}" for a, b in zip(name_words[::2], name_words[1::2], strict=True)]
    start = NOW - timedelta(days=3 * 365)
    articles: list[Article] = []
    cluster_of: dict[str, int] = {}
    cluster = 0
    while len(articles) < size:
        clustered = rng.random() < 0.5
        members = min(rng.randint(2, 6), size - len(articles)) if clustered else 1
        person = names[cluster % len(names)]
        film = " ".join(w.title() for w in rng.sample(vocabulary[2000:], rng.randint(1, 3)))
        topic = rng.sample(vocabulary[300:3000], 8)  # shared with other subjects too
        rare_tag = tags[rng.randint(60, len(tags) - 1)] if rng.random() < 0.6 else None
        centre = start + timedelta(days=rng.uniform(0, 3 * 365 - 40))
        for member in range(members):
            number = len(articles)
            slug = f"story-{number:06d}"
            words = rng.choices(population, cum_weights=cumulative, k=words_per_article)
            if members > 1:  # ~3% of a clustered story's words are its subject's
                for at in rng.sample(range(words_per_article), words_per_article * 3 // 100):
                    words[at] = rng.choice(topic)
            sentences = [" ".join(words[i : i + 16]) for i in range(0, len(words), 16)]
            mention = f"{person} said the film “{film}” was about {' '.join(topic[:3])}"
            for at in sorted(rng.sample(range(len(sentences)), rng.randint(1, 3))):
                sentences[at] = f"{sentences[at]} {mention}" if members > 1 else sentences[at]
            body = ". ".join(s[:1].upper() + s[1:] for s in sentences) + "."
            if members > 1:
                heads = [
                    f"{person} On “{film}”: {topic[0].title()} And {topic[1].title()}",
                    f"“{film}” Brings {topic[2].title()} To {rng.choice(vocabulary[:3000]).title()}",
                    f"Why {person} Keeps Returning To {topic[0].title()}",
                    f"{topic[1].title()} {topic[3].title()}: A First Look At “{film}”",
                ]
                title = heads[member % len(heads)] + f" ({number})"
            else:
                title = " ".join(w.title() for w in rng.choices(vocabulary[:8000], k=6)) + f" ({number})"
            chosen_tags = {tags[i] for i in _skewed(rng, tag_cumulative, rng.randint(2, 4))}
            if rare_tag is not None and members > 1:
                chosen_tags.add(rare_tag)
            published = centre + timedelta(days=rng.uniform(0, 30), minutes=number % 1000)
            articles.append(
                Article(
                    id=f"tag:bench,{slug}",
                    slug=slug,
                    title=title,
                    url=f"https://bench.example.com/{slug}/",
                    published=published,
                    source_path=f"content/{slug}.md",
                    text=body,
                    summary=sentences[0][:200],
                    author=rng.choice(authors),
                    tags=tuple(sorted(chosen_tags, key=lambda t: t.slug)),
                    content_hash=f"h{number}",
                )
            )
            cluster_of[slug] = cluster if members > 1 else -1
        cluster += 1
    return Synthetic(articles, cluster_of)


def _skewed(rng: random.Random, cumulative: list[float], count: int) -> list[int]:
    top = cumulative[-1]
    out = []
    for _ in range(count):
        point = rng.random() * top
        lo, hi = 0, len(cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] < point:
                lo = mid + 1
            else:
                hi = mid
        out.append(lo)
    return out


# -- quality -------------------------------------------------------------------


@dataclass
class Quality:
    queries: int
    recall3: float
    recall5: float
    mrr: float

    def row(self, label: str) -> str:
        return f"{label:<44} {self.queries:>7} {self.recall3:>9.3f} {self.recall5:>9.3f} {self.mrr:>7.3f}"


def measure(ranked: Iterable[tuple[Sequence[str], set[str]]]) -> Quality:
    """Macro-averaged recall@3, recall@5 and MRR over (ranked picks, relevant set) pairs."""
    n = r3 = r5 = rr = 0.0
    for picks, relevant in ranked:
        if not relevant:
            continue
        n += 1
        r3 += len(relevant.intersection(picks[:3])) / min(len(relevant), 3)
        r5 += len(relevant.intersection(picks[:5])) / min(len(relevant), 5)
        rr += next((1.0 / rank for rank, slug in enumerate(picks[:5], 1) if slug in relevant), 0.0)
    return Quality(int(n), r3 / max(n, 1), r5 / max(n, 1), rr / max(n, 1))


def _without_leaks(article: Article, titles: list[str]) -> Article:
    """The article without any sentence that quotes a hidden pick's headline."""
    keys = [headline_key(t) for t in titles]
    sentences = re.split(r"(?<=[.!?])\s+", article.text)
    kept = [s for s in sentences if not any(k and k in headline_key(s) for k in keys)]
    return replace(article, text=" ".join(kept), related=(), more=())


def demo_quality(config: RelatedConfig) -> tuple[Quality, int] | None:
    """Recovering the demo site's editor picks with computed picks only."""
    if not (ROOT / "content").is_dir():
        return None
    from syndicate._site import Site

    site = Site(load_config(ROOT))
    collection = site.collection
    published = {a.slug for a in collection.published(NOW)}
    hidden: dict[str, set[str]] = {}
    cleaned: list[Article] = []
    for article in collection:
        picks = [r.article for r in collection.editor_picks(article) if r.article is not None]
        picks = [p for p in picks if p.slug in published]
        if picks and article.slug in published:
            hidden[article.slug] = {p.slug for p in picks}
        cleaned.append(_without_leaks(article, [p.title for p in picks]) if picks else article)
    index = RelatedIndex(Collection(cleaned), config, NOW)
    by_slug = {a.slug: a for a in cleaned}
    results = [
        ([s.document.slug for s in index.computed(by_slug[slug], 5)], relevant) for slug, relevant in hidden.items()
    ]
    return measure(results), len(published)


def synthetic_quality(index: DocumentIndex, data: Synthetic, documents: list[Document], limit: int) -> Quality:
    by_cluster: dict[int, set[str]] = {}
    for slug, cluster in data.cluster_of.items():
        if cluster >= 0:
            by_cluster.setdefault(cluster, set()).add(slug)
    results = []
    for document in documents[:limit]:
        cluster = data.cluster_of[document.slug]
        if cluster < 0:
            continue
        relevant = by_cluster[cluster] - {document.slug}
        results.append(([s.document.slug for s in index.related(document, 5)], relevant))
    return measure(results)


# -- the brute-force baseline ----------------------------------------------------


def baseline(documents: list[Document], sample: int | None) -> tuple[float, Timer, int, dict[str, list[str]]] | None:
    """All-pairs cosine over the full TF-IDF vectors; (vectorise s, all-pairs s, rows done, top 5 by slug)."""
    try:
        import numpy as np
        from scipy import sparse
    except ImportError:
        return None
    started = time.perf_counter()
    df: dict[str, int] = {}
    for d in documents:
        for term in d.features.words:
            df[term] = df.get(term, 0) + 1
    column = {term: i for i, term in enumerate(sorted(df))}
    size = len(documents)
    idf = {term: math.log((1 + size) / (1 + n)) + 1.0 for term, n in df.items()}
    rows, cols, vals = [], [], []
    for row, d in enumerate(documents):
        for term, tf in zip(d.features.words, d.features.counts, strict=True):
            rows.append(row)
            cols.append(column[term])
            vals.append((1.0 + math.log(tf)) * idf[term])
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(size, len(column)), dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = sparse.diags(1.0 / norms) @ matrix
    transposed = matrix.T.tocsr()
    vectorise = time.perf_counter() - started
    pairs = timed()
    pairs.__enter__()
    done = size if sample is None else min(sample, size)
    top: dict[str, list[str]] = {}
    chunk = 500
    for begin in range(0, done, chunk):
        end = min(begin + chunk, done)
        scores = (matrix[begin:end] @ transposed).toarray()
        for offset in range(end - begin):
            scores[offset, begin + offset] = -1.0
        best = np.argpartition(-scores, 5, axis=1)[:, :5]
        for offset in range(end - begin):
            order = sorted(best[offset], key=lambda j: -scores[offset, j])
            top[documents[begin + offset].slug] = [documents[j].slug for j in order]
    pairs.__exit__()
    return vectorise, pairs.result, done, top


# -- speed -----------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process and its finished workers: fair on a machine shared with other jobs."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class Timer:
    wall: float = 0.0
    cpu: float = 0.0

    def __str__(self) -> str:
        return f"{self.wall:.1f} s ({self.cpu:.1f} s CPU)"


class timed:
    def __init__(self) -> None:
        self.result = Timer()

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), _cpu()
        return self.result

    def __exit__(self, *exc: object) -> None:
        self.result.wall = time.perf_counter() - self._wall
        self.result.cpu = _cpu() - self._cpu


def speed_run(size: int, baseline_sample: int | None, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One size in a fresh process, so peak memory is this size's alone."""
    data = synthetic_collection(size)
    generated_mb = _peak_mb()
    config = RelatedConfig()
    with timed() as tokenise, paused_gc():
        features = features_of_all(data.articles)
        documents = [article_document(a, f) for a, (f, _) in zip(data.articles, features, strict=True)]
    with timed() as build:
        index = DocumentIndex(documents, config)
    with timed() as query:
        fast_top = {slug: [s.document.slug for s in picks] for slug, picks in index.related_all(5).items()}
    peak_mb = _peak_mb()
    worker_mb = _worker_peak_mb()
    # Adding one article to the full index (the statistics stay; nothing else is recomputed).
    extra = synthetic_collection(size + 1, seed=7).articles[-1]
    extra = replace(extra, slug="story-added", url="https://bench.example.com/story-added/")
    with timed() as add_one:
        added = article_document(extra)
        index.add([added])
        picks_for_added = index.related(added, 5)
    quality = synthetic_quality(index, data, documents, len(documents))
    text_only = DocumentIndex(documents, RelatedConfig(tag_weight=0, name_weight=0, recency_weight=0, author_weight=0))
    text_top = {slug: [s.document.slug for s in picks] for slug, picks in text_only.related_all(5).items()}
    del text_only
    base = baseline(documents, baseline_sample)
    result: dict[str, object] = {
        "size": size,
        "tokenise": tokenise,
        "build": build,
        "query": query,
        "generated_mb": generated_mb,
        "peak_mb": peak_mb,
        "worker_mb": worker_mb,
        "add_one": add_one,
        "added_picks": len(picks_for_added),
        "quality": quality,
    }
    if base is not None:
        vectorise, pairs, done, base_top = base
        overlap = {slug: len(set(text_top[slug]) & set(top)) / len(top) for slug, top in base_top.items() if top}
        clustered = [v for slug, v in overlap.items() if data.cluster_of[slug] >= 0]
        loners = [v for slug, v in overlap.items() if data.cluster_of[slug] < 0]
        base_quality = measure(
            (top, {s for s, c in data.cluster_of.items() if c == data.cluster_of[slug] and c >= 0} - {slug})
            for slug, top in base_top.items()
        )
        full_quality = measure(
            (fast_top[slug], {s for s, c in data.cluster_of.items() if c == data.cluster_of[slug] and c >= 0} - {slug})
            for slug in base_top
        )
        result.update(
            base_vectorise=vectorise,
            base_pairs=pairs,
            base_rows=done,
            base_pairs_all=Timer(pairs.wall * size / done, pairs.cpu * size / done),
            overlap=sum(overlap.values()) / len(overlap),
            overlap_clustered=sum(clustered) / max(1, len(clustered)),
            overlap_loners=sum(loners) / max(1, len(loners)),
            base_quality=base_quality,
            sampled_fast_quality=full_quality,
        )
    queue.put(result)


def run_size(size: int, baseline_sample: int | None) -> dict[str, object]:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    process = context.Process(target=speed_run, args=(size, baseline_sample, queue))
    process.start()
    result: dict[str, object] = queue.get()
    process.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument(
        "--baseline-sample", type=int, default=2000, help="rows of the all-pairs baseline above 10,000 articles"
    )
    args = parser.parse_args(argv)
    config = RelatedConfig()
    print("== Quality: computed picks recovering hidden related stories ==")
    print(f"{'collection':<44} {'queries':>7} {'recall@3':>9} {'recall@5':>9} {'MRR':>7}")
    demo = demo_quality(config)
    if demo is None:
        print(f"{'demo site (content/ missing: skipped)':<44}")
    else:
        quality, published = demo
        print(quality.row(f"demo site editor picks ({published} articles)"))
    data = synthetic_collection(3000, seed=11)
    documents = [article_document(a) for a in data.articles]
    print(
        synthetic_quality(DocumentIndex(documents, config), data, documents, 3000).row(
            "synthetic clusters (3,000 articles)"
        )
    )
    if args.quality_only:
        return 0
    print()
    print("== Speed: full index build + every article's top 5 (each size in its own process) ==")
    print(
        f"{available_workers()} cores; load average before starting {os.getloadavg()[0]:.1f} "
        "(wall time suffers when other jobs share the machine; CPU time does not)"
    )
    for size in args.sizes:
        sample = None if size <= 10_000 else args.baseline_sample
        r = run_size(size, sample)
        tokenise, build, query = (r[key] for key in ("tokenise", "build", "query"))
        assert isinstance(tokenise, Timer) and isinstance(build, Timer) and isinstance(query, Timer)
        total = Timer(tokenise.wall + build.wall + query.wall, tokenise.cpu + build.cpu + query.cpu)
        print(f"-- {size:,} articles --")
        print(f"  this index : tokenise {tokenise} + index {build} + every top 5 {query} = {total}")
        print(
            f"  memory     : peak RSS {r['peak_mb']:.0f} MB (of which the generated texts {r['generated_mb']:.0f} MB); "
            f"each forked worker peaks at {r['worker_mb']:.0f} MB, mostly pages shared with the parent"
        )
        add_one = r["add_one"]
        assert isinstance(add_one, Timer)
        print(f"  add one    : {add_one.wall * 1000:.0f} ms wall to tokenise, index and query one new article")
        q = r["quality"]
        assert isinstance(q, Quality)
        print(f"  quality    : recall@5 {q.recall5:.3f}, MRR {q.mrr:.3f} against the synthetic clusters")
        if "base_pairs" in r:
            pairs = r["base_pairs_all"]
            assert isinstance(pairs, Timer)
            rows = r["base_rows"]
            extrapolated = "" if rows == size else f" ({rows:,} query rows timed, extrapolated to {size:,})"
            bq = r["base_quality"]
            fq = r["sampled_fast_quality"]
            assert isinstance(bq, Quality) and isinstance(fq, Quality)
            base_total = Timer(tokenise.wall + pairs.wall, tokenise.cpu + pairs.cpu)
            print(
                f"  all-pairs  : same tokenising {tokenise} + all-pairs cosine {pairs}{extrapolated} = {base_total} "
                f"(building its matrix, {r['base_vectorise']:.1f} s in Python, not counted)"
            )
            print(
                f"  fast vs all: text-only top-5 overlap {r['overlap']:.3f} (stories with related ones "
                f"{r['overlap_clustered']:.3f}, stories with none {r['overlap_loners']:.3f}); "
                f"recall@5 all-pairs {bq.recall5:.3f} vs this index {fq.recall5:.3f} on the same rows"
            )
        else:
            print("  all-pairs  : skipped (needs numpy and scipy: pip install -e '.[bench]')")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
