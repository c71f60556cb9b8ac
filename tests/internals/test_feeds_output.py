"""Every feed a site produces is valid (feedparser, RFC 4287 RELAX NG, RSS 2.0, JSON Feed 1.1) and complete.

Each test runs on the small sample site (every feature, always there) and on
the bundled demo site (the repository root) once it has content.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import jsonschema
import pytest
from conftest import DEMO_NOW, REPO, SiteFactory
from lxml import etree

import syndicate
from syndicate import Article

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
SAMPLE_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


@dataclass
class BuiltSite:
    """A site built into ``out``, with what it should contain."""

    root: Path
    out: Path
    config: syndicate.Config
    published: list[Article]
    everything: list[Article]
    limit: int

    def feed_folders(self) -> list[Path]:
        folders = [self.out]
        folders += sorted(p for p in (self.out / "tags").iterdir() if p.is_dir())
        folders += sorted(p for p in (self.out / "authors").iterdir() if p.is_dir())
        return folders

    def expected(self, folder: Path) -> list[Article]:
        """The articles a feed folder should hold, newest first, limited."""
        relative = folder.relative_to(self.out).parts
        if not relative:
            chosen = self.published
        elif relative[0] == "tags":
            chosen = [a for a in self.published if relative[1] in {t.slug for t in a.tags}]
        else:
            chosen = [a for a in self.published if a.author is not None and a.author.slug == relative[1]]
        return chosen[: self.limit]


def _build(root: Path, now: datetime) -> BuiltSite:
    with syndicate.Site.open(root) as site:
        result = site.build(now=now)
        collection = site.collection
        published = collection.published(now)
        everything = list(collection)
    assert result.published == len(published)
    return BuiltSite(root, result.out_dir, site.config, published, everything, site.config.feeds.limit)


@pytest.fixture(params=["sample", "demo"])
def built(request: pytest.FixtureRequest, sample_site: Path, tmp_path: Path) -> BuiltSite:
    if request.param == "sample":
        return _build(sample_site, SAMPLE_NOW)
    if not (REPO / "content").is_dir():
        pytest.skip("the demo site has no content/ yet")
    demo = tmp_path / "demo"
    shutil.copytree(REPO / "content", demo / "content")
    shutil.copy(REPO / "syndicate.toml", demo / "syndicate.toml")
    return _build(demo, DEMO_NOW)


def _rss_date(text: str) -> datetime:
    return parsedate_to_datetime(text)


def test_site_tag_and_author_feed_sets_are_all_written(built: BuiltSite) -> None:
    tags = {t.slug for a in built.published for t in a.tags}
    authors = {a.author.slug for a in built.published if a.author}
    assert {p.name for p in (built.out / "tags").iterdir()} == tags
    assert {p.name for p in (built.out / "authors").iterdir()} == authors
    for folder in built.feed_folders():
        assert {p.name for p in folder.iterdir() if p.is_file()} >= {"rss.xml", "atom.xml", "feed.json"}
    assert (built.out / "feed.xsl").is_file()


def test_every_feed_parses_with_feedparser_without_bozo(built: BuiltSite) -> None:
    for folder in built.feed_folders():
        expected = [a.title for a in built.expected(folder)]
        for name in ("rss.xml", "atom.xml", "feed.json"):
            parsed = feedparser.parse((folder / name).read_bytes())
            if name == "feed.json":
                parsed = feedparser.parse(_json_as_text(folder / name))
                items = json.loads((folder / name).read_bytes())["items"]
                assert [i["title"] for i in items] == expected
                continue
            assert parsed.bozo == 0, f"{folder / name}: {parsed.get('bozo_exception')}"
            assert [e.title for e in parsed.entries] == expected, folder / name


def _json_as_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_atom_feed_validates_against_rfc4287_relax_ng(built: BuiltSite) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    for folder in built.feed_folders():
        document = etree.parse(str(folder / "atom.xml"))
        assert schema.validate(document), f"{folder / 'atom.xml'}: {schema.error_log}"
        feed = document.getroot()
        # RFC 4287 4.1.1: a feed author unless every entry has one (a Schematron rule RELAX NG cannot check).
        assert feed.find(f"{ATOM}author") is not None or all(
            entry.find(f"{ATOM}author") is not None for entry in feed.iter(f"{ATOM}entry")
        )


def test_every_rss_feed_has_the_required_elements_and_our_promises(built: BuiltSite) -> None:
    for folder in built.feed_folders():
        path = folder / "rss.xml"
        root = etree.parse(str(path)).getroot()
        assert root.tag == "rss" and root.get("version") == "2.0"
        channel = root.find("channel")
        assert channel is not None
        for required in ("title", "link", "description"):
            assert (channel.findtext(required) or "").strip(), f"{path}: channel <{required}>"
        assert channel.findtext("link", "").startswith("https://")
        assert channel.findtext("language") == built.config.site.language
        assert channel.findtext("ttl") == str(built.config.feeds.ttl)
        _rss_date(channel.findtext("pubDate", ""))
        _rss_date(channel.findtext("lastBuildDate", ""))
        self_link = channel.find("{http://www.w3.org/2005/Atom}link[@rel='self']")
        assert self_link is not None
        assert self_link.get("href") == built.config.site.base_url + "/" + str(path.relative_to(built.out))
        articles = {a.id: a for a in built.expected(folder)}
        items = channel.findall("item")
        assert len(items) == len(articles)
        for item in items:
            assert item.findtext("title") or item.findtext("description"), f"{path}: item has neither"
            guid = item.find("guid")
            assert guid is not None and guid.get("isPermaLink") == "false"
            article = articles[guid.text or ""]
            assert item.findtext("link") == article.url
            assert item.findtext(CONTENT_ENCODED) == article.content_html
            assert _rss_date(item.findtext("pubDate", "")) == article.published
            assert [c.text for c in item.findall("category")] == [t.name for t in article.tags]
            enclosure = item.find("enclosure")
            if article.image is None:
                assert enclosure is None
            else:
                assert enclosure is not None
                assert enclosure.get("url") == article.image.url
                assert enclosure.get("type") == article.image.mime_type
                assert enclosure.get("length") is not None


def _check_dates(value: object) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.startswith("date_"):
                parsed = datetime.fromisoformat(str(inner))
                assert parsed.tzinfo is not None, f"{key} {inner!r} has no offset"
            _check_dates(inner)
    elif isinstance(value, list):
        for inner in value:
            _check_dates(inner)


def test_every_json_feed_validates_against_the_json_feed_1_1_schema(built: BuiltSite) -> None:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for folder in built.feed_folders():
        document = json.loads((folder / "feed.json").read_bytes())
        errors = sorted(validator.iter_errors(document), key=str)
        assert not errors, f"{folder / 'feed.json'}: {errors[0].message} at {list(errors[0].absolute_path)}"
        _check_dates(document)
        assert document["feed_url"] == built.config.site.base_url + "/" + str(
            (folder / "feed.json").relative_to(built.out)
        )


def test_schemas_reject_broken_feeds() -> None:
    """The validators above would notice: a feed missing its id or title fails."""
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    broken = etree.fromstring(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><updated>2026-01-01T00:00:00Z</updated></feed>'
    )
    assert not schema.validate(broken)
    json_schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json_schema)
    assert list(validator.iter_errors({"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "x"}]}))


@dataclass(frozen=True)
class ReadBack:
    """One entry as a reader sees it, whatever the format."""

    id: str
    title: str
    link: str
    published: datetime
    author: str
    tags: tuple[str, ...]
    content: str


def _read_xml_feed(path: Path) -> list[ReadBack]:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, path
    return [
        ReadBack(
            e.id,
            e.title,
            e.link,
            datetime(*e.published_parsed[:6]).replace(tzinfo=ZoneInfo("UTC")),
            e.get("author", ""),
            tuple(t.get("label") or t.term for t in e.get("tags", [])),
            "".join(c.value for c in e.get("content", [])).strip(),
        )
        for e in parsed.entries
    ]


def _read_json_feed(path: Path) -> list[ReadBack]:
    # feedparser 6.0 does not read JSON Feed, so the reader here is json itself.
    items = json.loads(path.read_bytes())["items"]
    return [
        ReadBack(
            i["id"],
            i["title"],
            i["url"],
            datetime.fromisoformat(i["date_published"]).astimezone(ZoneInfo("UTC")),
            ", ".join(a["name"] for a in i.get("authors", [])),
            tuple(i.get("tags", [])),
            i["content_html"].strip(),
        )
        for i in items
    ]


def _html_shape(markup: str) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    """Text and elements with their attributes: equal for HTML that differs only in serialisation."""
    root = etree.fromstring(f"<div>{markup}</div>", etree.HTMLParser())
    text = " ".join("".join(root.itertext()).split())
    return text, [(el.tag, sorted(el.attrib.items())) for el in root.iter() if isinstance(el.tag, str)]


def test_round_trip_of_every_article_in_rss_atom_and_json(built: BuiltSite) -> None:
    """Title, link, date, author, tags and content survive build -> parse in each format."""
    seen: dict[str, set[str]] = {"rss.xml": set(), "atom.xml": set(), "feed.json": set()}
    for folder in built.feed_folders():
        by_id = {a.id: a for a in built.expected(folder)}
        for name, reader in (("rss.xml", _read_xml_feed), ("atom.xml", _read_xml_feed), ("feed.json", _read_json_feed)):
            entries = reader(folder / name)
            assert [e.id for e in entries] == list(by_id), folder / name
            for entry in entries:
                article = by_id[entry.id]
                seen[name].add(article.id)
                assert entry.title == article.title
                assert entry.link == article.url
                assert entry.published == article.published.astimezone(ZoneInfo("UTC")), (name, article.slug)
                if article.author is not None:
                    assert article.author.name in entry.author, (name, article.slug)
                assert entry.tags == tuple(t.name for t in article.tags), (name, article.slug)
                assert _html_shape(entry.content) == _html_shape(article.content_html), (name, article.slug)
    # Every published article is in some feed in every format: the newest in the site feed, the rest by tag/author.
    in_a_feed = {a.id for folder in built.feed_folders() for a in built.expected(folder)}
    assert all(ids == in_a_feed for ids in seen.values())


def test_newest_first_and_limited(built: BuiltSite) -> None:
    items = json.loads((built.out / "feed.json").read_bytes())["items"]
    dates = [datetime.fromisoformat(i["date_published"]) for i in items]
    assert dates == sorted(dates, reverse=True)
    assert len(items) == min(built.limit, len(built.published))


def test_atom_entry_links_keep_rel_and_type(built: BuiltSite) -> None:
    """feedgen issue 135 drops rel/type from entry links; we put them back."""
    with_image = 0
    for folder in built.feed_folders():
        by_id = {a.id: a for a in built.expected(folder)}
        root = etree.parse(str(folder / "atom.xml")).getroot()
        for entry in root.iter(f"{ATOM}entry"):
            article = by_id[entry.findtext(f"{ATOM}id", "")]
            links = entry.findall(f"{ATOM}link")
            assert all(link.get("rel") for link in links)
            alternate = [link for link in links if link.get("rel") == "alternate"]
            assert [(link.get("href"), link.get("type")) for link in alternate] == [(article.url, "text/html")]
            enclosures = [link for link in links if link.get("rel") == "enclosure"]
            if article.image is None:
                assert enclosures == []
            else:
                with_image += 1
                assert [(link.get("href"), link.get("type")) for link in enclosures] == [
                    (article.image.url, article.image.mime_type)
                ]
    assert with_image, "no article with an image was checked"


def test_drafts_and_future_articles_are_left_out_of_every_feed(
    built: BuiltSite, request: pytest.FixtureRequest
) -> None:
    hidden = [a for a in built.everything if a not in built.published]
    if "sample" in request.node.callspec.id:
        assert {a.slug for a in hidden} == {"draft", "scheduled"}
    hidden_ids = {a.id for a in hidden}
    hidden_titles = {a.title for a in hidden}
    for path in built.out.rglob("*"):
        if path.suffix in (".xml", ".json"):
            text = path.read_text(encoding="utf-8")
            assert not any(title in text for title in hidden_titles), path
            assert not any(identifier in text for identifier in hidden_ids), path


def test_xsl_stylesheet_renders_feeds_as_pages_with_item_links(built: BuiltSite) -> None:
    transform = etree.XSLT(etree.parse(str(built.out / "feed.xsl")))
    expected = built.expected(built.out)
    for name in ("rss.xml", "atom.xml"):
        text = (built.out / name).read_text(encoding="utf-8")
        assert '<?xml-stylesheet type="text/xsl" href="' in text
        page = transform(etree.parse(str(built.out / name)))
        html = etree.fromstring(bytes(page), etree.HTMLParser())
        links = {a.text: a.get("href") for a in html.iter("a")}
        for article in expected:
            assert links.get(article.title) == article.url, (name, article.title)
        assert html.findtext(".//h1") == built.config.site.title


def test_stylesheet_hrefs_are_relative_so_feeds_work_under_any_sub_path(sample_site: Path) -> None:
    built = _build(sample_site, SAMPLE_NOW)
    # The sample site lives under /news, but is served wherever the publisher puts public/: a
    # root-absolute href would miss the stylesheet (and browsers only apply same-origin ones).
    for folder, prefix in (("", ""), ("tags/festivals/", "../../"), ("authors/jane-doe/", "../../")):
        for name in ("rss.xml", "atom.xml"):
            head = (built.out / folder / name).read_text(encoding="utf-8").splitlines()[1:3]
            assert head == [
                f'<?xml-stylesheet type="text/xsl" href="{prefix}feed.xsl"?>',
                f'<?xml-stylesheet type="text/css" href="{prefix}feed.css"?>',
            ], (folder, name)
            assert (built.out / folder / prefix / "feed.css").is_file()


def test_naive_dates_take_the_site_timezone(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "naive.md": "---\ntitle: Naive\ndate: 2026-07-01 09:00\n---\nx\n",
            "offset.md": "---\ntitle: Offset\ndate: 2026-07-01T09:00:00+02:00\n---\nx\n",
            "day.md": "---\ntitle: Day\ndate: 2026-01-15\n---\nx\n",
        }
    )
    collection = syndicate.Site.open(site).collection
    london = ZoneInfo("Europe/London")
    naive = collection.get("naive")
    assert naive is not None and naive.published == datetime(2026, 7, 1, 9, 0, tzinfo=london)
    assert naive.published.utcoffset() == timedelta(hours=1)
    offset = collection.get("offset")
    assert offset is not None and offset.published.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    day = collection.get("day")
    assert day is not None and day.published == datetime(2026, 1, 15, 0, 0, tzinfo=london)
    for article in collection:
        assert article.published.tzinfo is not None


def test_a_site_with_nothing_published_still_writes_valid_empty_feeds(make_site: SiteFactory) -> None:
    site = make_site({"draft.md": "---\ntitle: Draft\ndate: 2026-10-01\ndraft: true\n---\nbody\n"})
    built = _build(site, SAMPLE_NOW)
    assert built.published == []
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    assert schema.validate(etree.parse(str(built.out / "atom.xml")))
    parsed = feedparser.parse((built.out / "rss.xml").read_bytes())
    assert parsed.bozo == 0 and parsed.entries == []
    assert json.loads((built.out / "feed.json").read_bytes())["items"] == []
    assert not (built.out / "tags").exists()


def test_built_items_are_found_again_by_identity_only() -> None:
    from syndicate._feeds.itemcache import ItemCache

    cache: ItemCache[str] = ItemCache(limit=3)
    first, twin = ["same"], ["same"]  # equal but distinct: an edited article is a new object
    cache.put(first, "shape", "built")
    assert cache.get(first, "shape") == "built"
    assert cache.get(first, "other shape") is None
    assert cache.get(twin, "shape") is None
    for n in range(3):
        cache.put([n], "shape", str(n))  # reaching the limit empties it
    assert cache.get(first, "shape") is None
