"""How fast is a newsletter issue built, and personalised per recipient?

    python bench/newsletter_bench.py [--articles 10000] [--recipients 10000] [--rerender 200]

1. Build one issue from a collection of --articles articles (in memory, as the
   site holds it after loading): related index, selection, Jinja2 -> MJML ->
   HTML with css-inline, text part, checks, and writing every file.
2. Personalise it for --recipients recipients by substituting the markers into
   the HTML and text rendered once, side by side with the baseline of
   re-rendering the issue (Jinja2 + MJML + css-inline) per recipient, timed on
   --rerender recipients and reported per recipient.

Targets (issue 5): build under 2 s; personalisation under 0.2 ms per recipient.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from syndicate._collection import Collection
from syndicate._config import load_config
from syndicate._model import Article, Author, Image, Tag
from syndicate._newsletter import BuiltIssue, build_issue, default_week
from syndicate._newsletter.personalise import Personaliser, recipient_values
from syndicate._newsletter.render import default_environment, render_issue
from syndicate._related import build_related_index
from syndicate._site import Site

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("America/Chicago")
CONFIG = """\
[site]
title = "Reel Dispatch"
url = "https://reeldispatch.example.com"
timezone = "America/Chicago"
description = "Film and culture news"

[newsletter]
postal_address = "Reel Dispatch, 200 N Film Row, Chicago IL 60601"
"""
WORDS = (
    *("festival", "premiere", "restoration", "documentary", "director", "actor", "award", "jury", "cinema"),
    *("screening", "archive", "retrospective", "studio", "streaming", "box", "office", "trailer", "casting"),
    *("sequel", "animation", "biopic", "thriller"),
)
TAGS = ("festivals", "restorations", "documentaries", "awards", "streaming", "box office", "interviews", "reviews")
AUTHORS = ("Jane Doe", "Ana Ruiz", "Tomás Lee", "Priya Natarajan", "Sam Okafor")


def synthetic_articles(count: int, newest: datetime) -> list[Article]:
    """``count`` articles, about 50 a week going back from ``newest``."""
    articles = []
    for i in range(count):
        published = newest - timedelta(hours=3.4 * i)
        words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(6)]
        slug = f"story-{i:05d}-{words[0]}-{words[1]}"
        author = AUTHORS[i % len(AUTHORS)]
        articles.append(
            Article(
                id=f"tag:reeldispatch.example.com,{published.date().isoformat()}:{slug}",
                slug=slug,
                title=f"{words[0].title()} {words[1]} and the {words[2]} of {words[3]}: story {i}",
                url=f"https://reeldispatch.example.com/{slug}/",
                published=published,
                source_path=f"content/{slug}.md",
                summary=f"A {words[4]} about the {words[5]}, the {words[2]} and what comes next for the {words[1]}.",
                text=" ".join(words * 20),
                author=Author(author, author.lower().replace(" ", "-")),
                tags=tuple(Tag(t, t.replace(" ", "-")) for t in {TAGS[i % 8], TAGS[(i // 8) % 8]}),
                image=Image(f"https://reeldispatch.example.com/img/{slug}.jpg", f"A still: {words[0]}")
                if i % 3
                else None,
                featured=i % 97 == 0,
            )
        )
    return articles


def make_site(folder: Path, collection: Collection | None = None) -> Site:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "content").mkdir(exist_ok=True)
    (folder / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    site = Site(load_config(folder))
    if collection is not None:
        site.__dict__["collection"] = collection  # the loaded collection, as Site caches it
    return site


def sample_site_issue(folder: Path) -> Path:
    """Build a sample issue and return its email.html: the demo site's latest week if it has content."""
    if (REPO / "content").is_dir() and any((REPO / "content").iterdir()):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "syndicate.toml", folder / "syndicate.toml")
        for name in ("content", "feeds", "templates"):
            if (REPO / name).is_dir():
                shutil.copytree(REPO / name, folder / name, dirs_exist_ok=True)
        site = Site.open(folder)
        newest = max(a.published for a in site.collection.published())
        week = default_week(site, newest + timedelta(days=7))
    else:
        newest = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
        site = make_site(folder, Collection(synthetic_articles(400, newest)))
        week = default_week(site, newest + timedelta(days=7))
    with site:
        built = build_issue(site, week, now=newest + timedelta(days=7), force=True)
    assert built is not None
    return built.paths["email.html"]


def best_of(runs: int, work: Callable[[], T]) -> tuple[float, T]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rerender", type=int, default=200, help="recipients timed for the re-rendering baseline")
    args = parser.parse_args()

    newest = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
    articles = synthetic_articles(args.articles, newest)
    with tempfile.TemporaryDirectory() as temp:
        started = time.perf_counter()
        collection = Collection(articles)
        index_seconds = time.perf_counter() - started
        site = make_site(Path(temp) / "site", collection)
        week = default_week(site, newest + timedelta(days=7))
        now = newest + timedelta(days=7)

        def build_once() -> BuiltIssue | None:
            return build_issue(site, week, now=now, out_dir=Path(temp) / "public")

        first = time.perf_counter()
        built = build_once()
        cold = time.perf_counter() - first
        warm, built = best_of(3, build_once)
        assert built is not None
        related_seconds, _ = best_of(3, lambda: build_related_index(collection, site.config.related, now))
        env = default_environment(site.config)
        render_seconds, _ = best_of(5, lambda: render_issue(built.issue, site.config, env))
        issue = built.issue
        rendered = built.rendered
        print(f"collection: {len(articles)} articles (Collection() indexes them in {index_seconds:.2f} s)")
        print(
            f"issue {week}: {len(issue.stories)} stories, {sum(len(s.related) for s in issue.stories)} related; "
            f"email.html {len(rendered.html.encode()) / 1024:.1f} KB"
        )
        print()
        print("build one issue                              seconds   target")
        print(f"  first build (templates compiled)          {cold:8.3f}   < 2 s  {'ok' if cold < 2 else 'SLOW'}")
        print(f"  rebuild (best of 3)                       {warm:8.3f}   < 2 s  {'ok' if warm < 2 else 'SLOW'}")
        print(f"    of which related index                  {related_seconds:8.3f}")
        print(f"    of which rendering (Jinja2/MJML/css)    {render_seconds:8.3f}")
        site.close()

        html_part, text_part = Personaliser(rendered.html), Personaliser(rendered.text)
        recipients = [(f"Reader {n}", f"reader{n}@example.com") for n in range(args.recipients)]

        def personalise_all() -> object:
            size = 0
            for name, address in recipients:
                url = f"https://reeldispatch.example.com/unsubscribe?token=t{address}"
                size += len(html_part.fill(recipient_values(name, address, url, for_html=True)))
                size += len(text_part.fill(recipient_values(name, address, url, for_html=False)))
            return size

        substitute_seconds, _ = best_of(3, personalise_all)

        def rerender(count: int) -> list[float]:
            times = []
            for name, _address in recipients[:count]:
                started = time.perf_counter()
                out = render_issue(issue, site.config, env)
                out.email_html.replace("%%SYN_NAME%%", name)
                times.append(time.perf_counter() - started)
            return times

        rerender_times = rerender(min(args.rerender, args.recipients))
        per_sub = substitute_seconds / args.recipients * 1000
        per_re = statistics.median(rerender_times) * 1000
        print()
        print(f"personalise for {args.recipients} recipients          ms/recipient   total s")
        ok = "ok" if per_sub < 0.2 else "SLOW"
        print(
            f"  substitution into the rendered issue      {per_sub:10.4f}   {substitute_seconds:8.2f}"
            f"   target < 0.2 ms {ok}"
        )
        print(
            f"  baseline: re-render per recipient         {per_re:10.4f}   {per_re * args.recipients / 1000:8.2f}"
            f"   (median of {len(rerender_times)}, total extrapolated)"
        )
        print(f"  substitution is {per_re / per_sub:.0f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
