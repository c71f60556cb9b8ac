"""Hostile own content (issue 10): control characters, symlinks, YAML bombs, in-place edits.

Each case is a real file in a real site folder, built and checked through the
CLI; the feeds written are read back by feedparser.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import BASIC_CONFIG as BASIC
from conftest import SiteFactory

from syndicate import Article, Author, Tag, build_site, load_config
from syndicate._collection import Collection, loader
from syndicate._feeds.jsonfeed import json_feed
from syndicate._feeds.spec import FeedItems, FeedMeta
from syndicate._feeds.xmlfeeds import rss_and_atom
from syndicate.cli import main

HEAD = "---\nid: urn:uuid:0b6c9a8e-1d1f-4c1e-8a57-5d1c1a0000{n:02d}\ndate: 2026-10-14 09:30\n"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def _check(site: Path) -> dict[str, object]:
    _, out = _run("check", "--site", str(site), "--json")
    report: dict[str, object] = json.loads(out)
    return report


def _build(site: Path) -> dict[str, object]:
    code, out = _run("build", "--site", str(site), "--json")
    assert code in (0, 1), out
    report: dict[str, object] = json.loads(out)
    return report


def _feeds_parse(site: Path) -> list[feedparser.FeedParserDict]:
    parsed = []
    for name in ("rss.xml", "atom.xml"):
        feed = feedparser.parse((site / "public" / name).read_bytes())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        parsed.append(feed)
    json.loads((site / "public" / "feed.json").read_text(encoding="utf-8"))
    return parsed


CONTROL_ARTICLES = {
    # A form feed and a vertical tab pasted into the body.
    "form-feed.md": HEAD.format(n=1) + "title: Form Feed\n---\nFirst page.\x0cSecond page.\x0bThird.\n",
    # \x01 in the title, a tag, the author and the summary (YAML's own escapes reach the value).
    "escaped.md": HEAD.format(n=2)
    + 'title: "Bell\\x01 Title"\nauthor: "Jane\\x01 Doe"\ntags: ["ok", "ba\\x01d"]\n'
    + 'summary: "Sum\\x1bmary"\nimage_alt: "alt\\x02"\n---\nBody.\n',
    # U+FFFE through a YAML escape (YAML itself refuses a lone surrogate escape: an error, below).
    "nonchar.md": HEAD.format(n=3) + 'title: "Half \\uFFFE pair"\n---\nBody &#1; and &#xFFFE;.\n',
    # A raw control character in the front matter, which YAML itself refuses.
    "raw-in-yaml.md": HEAD.format(n=4) + "title: Raw \x01 Title\n---\nBody.\n",
    "desk.txt": "Desk \x01 Headline\n\nA paragraph\x0cwith a form feed.\n\n"
    "Based in Chicago, Jane Doe covers festivals.\n",
}


def test_control_characters_in_own_articles_are_cleaned_reported_and_built(make_site: SiteFactory) -> None:
    site = make_site(CONTROL_ARTICLES)
    report = _check(site)
    problems = [p for p in report["problems"] if "XML cannot carry" in p["message"]]  # type: ignore[attr-defined]
    named = {p["path"] for p in problems}
    assert named == {f"content/{name}" for name in CONTROL_ARTICLES}, report
    assert all(p["line"] for p in problems)
    assert report["articles"] == len(CONTROL_ARTICLES)
    built = _build(site)
    assert built["articles"] == len(CONTROL_ARTICLES)
    rss, atom = _feeds_parse(site)
    titles = {entry.title for entry in atom.entries}
    assert {"Bell Title", "Raw Title", "Half pair"} <= titles
    for feed in (rss, atom):
        text = json.dumps(feed.entries, default=str)
        assert "\\u0001" not in text and "\\u000c" not in text
    body = (site / "public" / "atom.xml").read_text(encoding="utf-8")
    assert "First page. Second page. Third." in body


def test_check_finds_what_build_would_choke_on(make_site: SiteFactory) -> None:
    """On main, check said 0 errors while build died in lxml; now both agree and nothing dies."""
    site = make_site({"bell.md": HEAD.format(n=5) + 'title: "Bell\\x01"\ntags: ["a\\x07b"]\n---\nBody\x0c.\n'})
    report = _check(site)
    assert report["warnings"] >= 1  # type: ignore[operator]
    messages = " ".join(p["message"] for p in report["problems"])  # type: ignore[attr-defined]
    assert "U+0001" in messages and "U+0007" in messages and "U+000C" in messages
    _build(site)
    _feeds_parse(site)


def test_lone_surrogates_and_bad_utf8_are_problems_not_crashes(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "ok.md": HEAD.format(n=6) + "title: Fine\n---\nBody.\n",
            "surrogate.md": HEAD.format(n=7) + 'title: "Half \\ud800"\n---\nBody.\n',
        }
    )
    (site / "content" / "bytes.md").write_bytes(HEAD.format(n=8).encode() + b"title: Bad\n---\nBad \xff\xfe bytes\n")
    (site / "content" / "encoded-surrogate.md").write_bytes(
        HEAD.format(n=9).encode() + b"title: Bad\n---\nA \xed\xa0\x80 surrogate\n"
    )
    report = _check(site)
    errors = {p["path"]: p for p in report["problems"] if p["severity"] == "error"}  # type: ignore[attr-defined]
    assert set(errors) == {"content/surrogate.md", "content/bytes.md", "content/encoded-surrogate.md"}
    assert errors["content/bytes.md"]["line"] == 6 and "UTF-8" in errors["content/bytes.md"]["message"]
    built = _build(site)
    assert built["articles"] == 1
    _feeds_parse(site)


def test_direct_loader_calls_clean_lone_surrogates() -> None:
    from zoneinfo import ZoneInfo

    from syndicate._collection import ArticleContext
    from syndicate._collection.markdown import load_markdown
    from syndicate._collection.plaintext import load_plaintext

    context = ArticleContext("https://x.example", "x.example", "UTC")
    article, problems = load_markdown(HEAD.format(n=10) + "title: A \ud800 B\n---\nC\udfff D\n", "a.md", context)
    assert article is not None and article.title == "A B" and "\udfff" not in article.content_html
    assert [p.line for p in problems if "XML" in p.message] == [4, 6]
    moment = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    story, problems = load_plaintext("Head\ud800line\n\nBody\n", "a.txt", context, moment, date_is_guess=False)
    assert story is not None and story.title == "Headline"


def _hostile_article(bad: str) -> Article:
    return Article(
        id="urn:x" + bad,
        slug="bad",
        title="Title " + bad,
        url="https://test.example.org/bad/",
        published=datetime(2026, 10, 1, tzinfo=UTC),
        source_path="content/bad.md",
        content_html="<p>" + bad + "</p>",
        summary=bad,
        author=Author(name="Jane " + bad, slug="jane-doe", bio=bad),
        tags=(Tag(name="Tag " + bad, slug="tag"),),
    )


def test_feed_writers_never_pass_a_forbidden_character_to_lxml(make_site: SiteFactory) -> None:
    """An Article made in code (past every loader) with forbidden characters in every string still builds."""
    config = BASIC.replace('title = "Test Reel"', 'title = "Test \\u0001 Reel"')
    site = make_site({}, config=config)
    article = _hostile_article("x\x01\x0c\ufffey")
    build_site(load_config(site), collection=Collection([article]), now=datetime(2026, 11, 1, tzinfo=UTC))
    _, atom = _feeds_parse(site)
    assert atom.entries[0].title == "Title x y"
    assert atom.feed.title == "Test  Reel"
    assert json.loads((site / "public" / "feed.json").read_text(encoding="utf-8"))["items"][0]["summary"] == "x y"


def test_feed_writers_drop_lone_surrogates() -> None:
    meta = FeedMeta("", "Site \ud800", "d\x01", "https://x.example/", "https://x.example", "en", 60)
    items = FeedItems(articles=(_hostile_article("a\ud800\x02b"),))
    rss, atom = rss_and_atom(meta, items)
    document = json_feed(meta, items)
    for raw in (rss, atom):
        assert not feedparser.parse(raw).bozo
    assert json.loads(document)["items"][0]["title"] == "Title ab"


BOMB = (
    "---\ntitle: Laughs\ndate: 2026-10-14\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "tags: *i\n---\nBody\n"
)


def test_yaml_alias_bomb_is_a_quick_problem_that_never_prints_the_expansion(make_site: SiteFactory) -> None:
    import time
    import tracemalloc

    site = make_site({"ok.md": HEAD.format(n=11) + "title: Fine\n---\nBody.\n", "bomb.md": BOMB})
    tracemalloc.start()
    started = time.perf_counter()
    report = _check(site)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 2 and peak < 50_000_000
    [error] = [p for p in report["problems"] if p["severity"] == "error"]  # type: ignore[attr-defined]
    assert error["path"] == "content/bomb.md" and "alias" in error["message"] and error["line"] == 5
    assert "lol" not in error["message"]
    assert report["articles"] == 1
    assert _build(site)["articles"] == 1


def test_an_alias_free_star_still_uses_yaml_and_anchors_alone_are_fine(make_site: SiteFactory) -> None:
    site = make_site({"star.md": HEAD.format(n=12) + 'title: "5 * 5 stars"\nsummary: &s Good\n---\nBody.\n'})
    report = _check(site)
    assert report["errors"] == 0


def test_oversized_front_matter_and_huge_values_give_short_messages(make_site: SiteFactory) -> None:
    huge = "x" * 70_000
    site = make_site(
        {
            "big.md": HEAD.format(n=13) + f"title: Big\nsummary: {huge}\n---\nBody.\n",
            "long-date.md": "---\ntitle: Long\ndate: " + "9" * 60_000 + "\n---\nBody.\n",
            "long-tags.md": HEAD.format(n=14) + "title: T\ntags: {a: " + "y" * 60_000 + "}\n---\nBody.\n",
            "long-key.md": HEAD.format(n=17) + "title: T\n" + "k" * 1000 + ': "v\\x01"\n---\nBody.\n',
        }
    )
    report = _check(site)
    errors = {p["path"]: p for p in report["problems"] if p["severity"] == "error"}  # type: ignore[attr-defined]
    assert set(errors) == {"content/big.md", "content/long-date.md", "content/long-tags.md"}
    assert "more than the 65,536 allowed" in errors["content/big.md"]["message"]
    assert all(len(p["message"]) <= 300 for p in report["problems"])  # type: ignore[attr-defined]


def test_symlinks_out_of_the_content_folder_publish_nothing(make_site: SiteFactory, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.txt").write_text("Root Secret Headline\n\nroot:x:0:0:SECRET-MARKER:/root:/bin/bash\n")
    (secret / "story.md").write_text(HEAD.format(n=15) + "title: Outside Story\n---\nSECRET-MARKER body\n")
    site = make_site({"ok.md": HEAD.format(n=16) + "title: Fine\n---\nBody.\n"})
    content = site / "content"
    (content / "leak.txt").symlink_to(secret / "passwd.txt")
    (content / "leak.md").symlink_to(secret / "story.md")
    (content / "outside-folder").symlink_to(secret, target_is_directory=True)
    (content / "sub").mkdir()
    (content / "sub" / "loop").symlink_to(content / "sub", target_is_directory=True)
    (content / "self.md").symlink_to(content / "self.md")
    (content / "alias.md").symlink_to(content / "ok.md")  # inside: allowed (a duplicate slug, reported as such)
    report = _check(site)
    problems = {p["path"]: p for p in report["problems"]}  # type: ignore[attr-defined]
    for link in ("leak.txt", "leak.md", "outside-folder"):
        assert problems[f"content/{link}"]["severity"] == "error"
        assert "outside the content folder" in problems[f"content/{link}"]["message"]
    assert "not walked" in problems["content/sub/loop"]["message"]
    assert "looping" in problems["content/self.md"]["message"]
    built = _build(site)
    assert built["articles"] == 2  # ok.md and its in-folder alias
    for name in ("rss.xml", "atom.xml", "feed.json"):
        text = (site / "public" / name).read_text(encoding="utf-8")
        assert "SECRET-MARKER" not in text and "Root Secret" not in text and "Outside Story" not in text
    _feeds_parse(site)


# -- finding 8: an in-place edit during a build is never lost -------------------------------

EDITABLE = HEAD.format(n=20) + "title: Before The Edit\n---\nThe first version.\n"
EDITED = HEAD.format(n=20) + "title: Edited In Place\n---\nThe later version.\n"
assert len(EDITABLE) == len(EDITED)


def _site_build(site: Path) -> object:
    import syndicate

    with syndicate.Site.open(site) as opened:
        return opened.build(now=datetime(2026, 11, 1, tzinfo=UTC))


def _titles(site: Path) -> list[str]:
    return [e.title for e in feedparser.parse((site / "public" / "atom.xml").read_bytes()).entries]


def _rewrite_keeping_stat(path: Path, text: str) -> None:
    """An edit the file system cannot tell apart: same size, and the mtime put back as it was.

    That is what an edit within one tick of the file system's clock looks like
    (or a copy that preserves mtimes), right after the build read the file.
    """
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


def test_an_edit_keeping_size_and_mtime_is_picked_up_by_the_next_build(make_site: SiteFactory) -> None:
    site = make_site({"story.md": EDITABLE})
    _site_build(site)
    assert _titles(site) == ["Before The Edit"]
    _rewrite_keeping_stat(site / "content" / "story.md", EDITED)
    result = _site_build(site)
    assert not result.up_to_date  # type: ignore[attr-defined]
    assert _titles(site) == ["Edited In Place"]
    assert _site_build(site).up_to_date  # type: ignore[attr-defined]


def test_the_edit_is_picked_up_even_when_the_next_build_comes_much_later(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site({"story.md": EDITABLE})
    _site_build(site)  # the file was written a moment ago: its stat is not trusted
    _rewrite_keeping_stat(site / "content" / "story.md", EDITED)
    # Much later: the same stat is now old enough to be trusted by itself.
    monkeypatch.setattr(loader, "RACY_WINDOW_NS", 0, raising=False)
    _site_build(site)
    assert _titles(site) == ["Edited In Place"]


def test_an_edit_right_after_the_body_was_read_is_not_recorded_with_the_old_text(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is read, then the file is edited before the parse cache records its stat."""
    monkeypatch.setattr(loader, "RACY_WINDOW_NS", 0, raising=False)  # only the order of read and stat is under test
    site = make_site({"story.md": EDITABLE})
    path = site / "content" / "story.md"
    original = loader._complete_job
    edits: list[str] = []

    def read_then_edit(job: object, context: object) -> object:
        result = original(job, context)  # type: ignore[arg-type]
        if not edits:
            edits.append(str(path))
            later = path.stat().st_mtime_ns + 1_000_000_000
            path.write_text(EDITED, encoding="utf-8")
            os.utime(path, ns=(later, later))
        return result

    monkeypatch.setattr(loader, "_complete_job", read_then_edit)
    _site_build(site)
    assert edits and _titles(site) == ["Before The Edit"]  # this build read the old text
    monkeypatch.setattr(loader, "_complete_job", original)
    _site_build(site)
    assert _titles(site) == ["Edited In Place"]


def test_dates_feeds_cannot_carry_are_problems_or_made_writable() -> None:
    """Found by the property tests: PyYAML crashed on an offset with seconds; pre-1883 Chicago has one."""
    from syndicate._collection import ArticleContext
    from syndicate._collection.markdown import load_markdown

    context = ArticleContext("https://x.example", "x.example", "America/Chicago")
    article, problems = load_markdown(
        "---\ntitle: !!timestamp 1914-01-01 00:00:00-03:13:56\ndate: 2026-01-01\n---\n", "a.md", context
    )
    assert article is None and problems
    for when, ok in (("1914-01-01 00:00:00-03:13:56", True), ("0001-01-01", False), ("1850-12-31", True)):
        article, problems = load_markdown(f"---\ntitle: T\ndate: {when}\n---\nB\n", "a.md", context)
        assert (article is not None) == ok, problems
        if article is not None:
            meta = FeedMeta("", "S", "d", "https://x.example/", "https://x.example", "en", 60)
            _, atom = rss_and_atom(meta, FeedItems(articles=(article,)))
            assert "-05:50:36" not in atom.decode() and not feedparser.parse(atom).bozo


def test_an_unreadable_folder_is_a_problem_and_the_rest_loads(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, whom permissions do not stop: the refusal is injected at the walk's scandir."""
    import syndicate

    site = make_site({"ok.md": HEAD.format(n=18) + "title: Fine\n---\nBody.\n"})
    (site / "content" / "locked").mkdir()
    (site / "content" / "locked" / "x.md").write_text(HEAD.format(n=19) + "title: Locked\n---\nB.\n")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # the os module loader.py lists folders with
    with syndicate.Site.open(site) as opened:
        collection = opened.collection
    assert [a.title for a in collection] == ["Fine"]
    [problem] = [p for p in collection.problems if "cannot read folder" in p.message]
    assert problem.path == "content/locked" and "Permission denied" in problem.message


def test_a_title_of_nothing_but_control_characters_is_an_error(make_site: SiteFactory) -> None:
    site = make_site({"blank.md": HEAD.format(n=21) + 'title: "\\x01\\x02\\x0c"\n---\nBody.\n'})
    report = _check(site)
    errors = [p for p in report["problems"] if p["severity"] == "error"]  # type: ignore[attr-defined]
    assert [e["message"] for e in errors] == ["missing title: front matter needs 'title: ...'"]
    assert report["articles"] == 0
