"""Authors as records: desk copy in, a registry entry out, and the person shown wherever they appear."""

from __future__ import annotations

import json
import os
from pathlib import Path

import feedparser
from conftest import SiteFactory
from newsletter_samples import AFTER_WEEK, NEWSLETTER_CONFIG, WEEK

import syndicate
from syndicate import build_issue
from syndicate._collection.context import ArticleContext
from syndicate._collection.importer import import_plaintext

DESK_COPY = """\
Harbor Lights Festival Names Its First Jury

The Harbor Lights festival named a five-person jury on Monday.

Based in Portland, Oregon, Jane Doe writes about documentaries and festivals. Her work has appeared in Sight Lines.

Email jane.doe@example.com | @janedoe
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_desk_bio_with_a_place_and_a_contact_line_becomes_an_author_record(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    site_dir = make_site({}, NEWSLETTER_CONFIG)
    source = tmp_path / "wrap.txt"
    source.write_text(DESK_COPY, encoding="utf-8")
    with syndicate.Site.open(site_dir) as site:
        [result] = import_plaintext(
            [source],
            site.config.content_dir,
            ArticleContext.from_config(site.config),
            site.collection,
            date=AFTER_WEEK.replace(day=10),
            root=site.config.root,
        )
    assert result.written == site_dir / "content" / "harbor-lights-festival-names-its-first-jury.md"
    assert result.authors == [site_dir / "content" / "authors" / "jane-doe.md"]
    record = (site_dir / "content" / "authors" / "jane-doe.md").read_text(encoding="utf-8")
    assert "name: Jane Doe" in record and "email: jane.doe@example.com" in record and "'@janedoe'" in record
    assert "Based in Portland, Oregon, Jane Doe writes about documentaries" in record
    assert "Email jane" not in record
    # Opening the registry by hand: an avatar and a web page, published from then on.
    record = record.replace(
        "name: Jane Doe\n", "name: Jane Doe\nurl: https://janedoe.example.net/\navatar: /img/jane.jpg\n"
    )
    (site_dir / "content" / "authors" / "jane-doe.md").write_text(record, encoding="utf-8")

    with syndicate.Site.open(site_dir) as site:
        article = site.collection.get("harbor-lights-festival-names-its-first-jury")
        assert article is not None and article.author is not None
        assert article.author.name == "Jane Doe"
        assert article.author.email == "jane.doe@example.com" and article.author.handles == ("@janedoe",)
        # The body holds the story, not the bio or the contact line.
        assert "Based in Portland" not in article.text and "@janedoe" not in article.content_html
        site.build(now=AFTER_WEEK)
        built = build_issue(site, WEEK, now=AFTER_WEEK)
    public = site_dir / "public"
    author_feed = feedparser.parse((public / "authors" / "jane-doe" / "atom.xml").read_bytes())
    assert author_feed.bozo == 0
    assert author_feed.feed.title.endswith("Jane Doe")
    assert author_feed.feed.subtitle.startswith("Based in Portland, Oregon, Jane Doe writes")
    assert author_feed.feed.logo == "https://test.example.org/img/jane.jpg"
    rss = feedparser.parse((public / "authors" / "jane-doe" / "rss.xml").read_bytes())
    assert rss.feed.image.href == "https://test.example.org/img/jane.jpg"
    site_atom = feedparser.parse((public / "atom.xml").read_bytes())
    [entry] = [e for e in site_atom.entries if e.title.startswith("Harbor Lights")]
    assert entry.author_detail.name == "Jane Doe"
    assert entry.author_detail.href == "https://janedoe.example.net/"
    assert "email" not in entry.author_detail  # feeds are public: no address without show_email
    site_json = json.loads((public / "feed.json").read_text(encoding="utf-8"))
    [item] = [i for i in site_json["items"] if i["title"].startswith("Harbor Lights")]
    assert item["authors"] == [
        {"name": "Jane Doe", "url": "https://janedoe.example.net/", "avatar": "https://test.example.org/img/jane.jpg"}
    ]
    assert built is not None
    email = (built.folder / "email.html").read_text(encoding="utf-8")
    text = (built.folder / "email.txt").read_text(encoding="utf-8")
    assert "By Jane Doe" in email and "By Jane Doe" in text


def test_the_email_is_published_only_when_the_author_opts_in(make_site: SiteFactory) -> None:
    story = "---\ntitle: A Story\ndate: 2026-11-10 09:00\nauthor: Sam Lee\n---\nText.\n"
    record = "---\nname: Sam Lee\nemail: sam@example.com\nshow_email: true\n---\nSam Lee covers animation.\n"
    site_dir = make_site({"story.md": story})
    _write(site_dir / "content" / "authors" / "sam-lee.md", record)
    with syndicate.Site.open(site_dir) as site:
        result = site.build(now=AFTER_WEEK)
        assert [p for p in result.problems if "authors/" in p.path] == []
        assert site.collection.get("sam-lee") is None  # a record is not an article
    entry = feedparser.parse((site_dir / "public" / "atom.xml").read_bytes()).entries[0]
    assert entry.author_detail.email == "sam@example.com"


def test_two_bylines_are_both_published(make_site: SiteFactory) -> None:
    desk = (
        "Two Critics Walk Into A Festival\n\nThey saw everything.\n\n"
        "Jane Doe and Sam Lee cover the festival circuit for Test Reel.\n"
    )
    site_dir = make_site({"duo.txt": desk})
    moment = AFTER_WEEK.timestamp() - 86_400  # plain text is dated by its mtime: a day before the build
    os.utime(site_dir / "content" / "duo.txt", (moment, moment))
    with syndicate.Site.open(site_dir) as site:
        article = site.collection.get("duo")
        assert article is not None
        assert [a.name for a in article.authors] == ["Jane Doe", "Sam Lee"]
        site.build(now=AFTER_WEEK)
    public = site_dir / "public"
    entry = feedparser.parse((public / "atom.xml").read_bytes()).entries[0]
    assert [a.name for a in entry.authors] == ["Jane Doe", "Sam Lee"]
    assert (public / "authors" / "sam-lee" / "rss.xml").is_file() and (
        public / "authors" / "jane-doe" / "rss.xml"
    ).is_file()


def test_check_quotes_a_bio_it_cannot_read(make_site: SiteFactory) -> None:
    desk = "A Headline\n\nStory text.\n\nthe reviewer covers festivals. Her work has appeared in The Reel.\n"
    site_dir = make_site({"odd.txt": desk})
    with syndicate.Site.open(site_dir) as site:
        messages = [p.message for p in site.collection.problems if p.path.endswith("odd.txt")]
    assert any('"the reviewer covers festivals. Her work has appeared in The Reel."' in m for m in messages), messages


def test_a_bad_author_record_is_reported_and_the_rest_builds(make_site: SiteFactory) -> None:
    story = "---\ntitle: A Story\ndate: 2026-11-10 09:00\nauthor: Sam Lee\n---\nText.\n"
    site_dir = make_site({"story.md": story})
    _write(site_dir / "content" / "authors" / "sam-lee.md", "---\nemail: [oops\n---\n")
    with syndicate.Site.open(site_dir) as site:
        result = site.build(now=AFTER_WEEK)
    assert any(p.path.endswith("authors/sam-lee.md") for p in result.problems)
    assert (site_dir / "public" / "rss.xml").is_file()


def test_import_takes_folders_and_never_leaves_two_files_with_one_slug(make_site: SiteFactory, tmp_path: Path) -> None:
    taken = "---\ntitle: Already Here\ndate: 2026-11-01 09:00\n---\nOld.\n"
    site_dir = make_site({})
    _write(site_dir / "content" / "2026" / "already-here.md", taken)
    desk = tmp_path / "desk"
    (desk / "sub").mkdir(parents=True)
    (desk / "one.txt").write_text("First Desk Story\n\nOne.\n", encoding="utf-8")
    (desk / "sub" / "two.txt").write_text("Already Here\n\nA second story with a taken headline.\n", encoding="utf-8")
    (desk / "sub" / "three.txt").write_text("First Desk Story\n\nThe same headline twice in one batch.\n")
    with syndicate.Site.open(site_dir) as site:
        results = import_plaintext(
            [desk],
            site.config.content_dir,
            ArticleContext.from_config(site.config),
            site.collection,
            date=AFTER_WEEK,
            root=site.config.root,
        )
    by_name = {r.source.name: r for r in results}
    assert by_name["one.txt"].written == site_dir / "content" / "first-desk-story.md"
    assert by_name["one.txt"].moved_to == site_dir / "content" / ".imported" / "one.txt"
    assert by_name["two.txt"].written is None
    assert any("already published by content/2026/already-here.md" in p.message for p in by_name["two.txt"].problems)
    assert by_name["three.txt"].written is None
    assert (desk / "sub" / "two.txt").exists()  # a refused original stays where it was
    with syndicate.Site.open(site_dir) as site:
        assert not [p for p in site.collection.problems if "duplicate" in p.message.lower()]
