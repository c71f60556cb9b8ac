"""Building an issue from a site: files, archive, determinism, the message and the CLI."""

from __future__ import annotations

import email
import json
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import feedparser
from click.testing import CliRunner
from conftest import DEMO_NOW, SiteFactory
from lxml import html as lxml_html
from newsletter_samples import AFTER_WEEK, NEWSLETTER_CONFIG, WEEK, newsletter_site

import syndicate
from syndicate._newsletter import build_issue, default_week, placeholders, prepare_issue, publish_issue
from syndicate._newsletter.ledger import issue_to_json
from syndicate.cli import main

WEEK_SLUGS = ["festival-lead", "late-review", "doc-premiere", "monday-news"]


def build(site_dir: Path, week: str = WEEK, **kwargs: object):  # type: ignore[no-untyped-def]
    with syndicate.Site.open(site_dir) as site:
        return build_issue(site, week, now=AFTER_WEEK, **kwargs)  # type: ignore[arg-type]


def test_known_week_builds_exactly_its_stories_with_three_related_each(make_site: SiteFactory) -> None:
    built = build(newsletter_site(make_site))
    assert built is not None
    assert [s.article.slug for s in built.issue.stories] == WEEK_SLUGS
    record = json.loads((built.folder / "issue.json").read_text())
    assert [s["slug"] for s in record["stories"]] == WEEK_SLUGS
    assert record["stories"][0]["lead"] is True and record["stories"][0]["featured"] is True
    for story in record["stories"]:
        related = [r["slug"] for r in story["related"]]
        assert len(related) == 3
        assert not set(related) & set(WEEK_SLUGS)
        assert all(slug.startswith("archive-") for slug in related)


def test_outputs_are_written_where_documented(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    built = build(site_dir)
    assert built is not None
    folder = site_dir / "public" / "newsletter" / WEEK
    for name in ("index.html", "email.html", "email.txt", "message.eml", "issue.json"):
        assert (folder / name).is_file(), name
    assert (site_dir / "public" / "newsletter" / "index.html").is_file()
    assert (site_dir / "public" / "newsletter" / "rss.xml").is_file()


def test_out_option_moves_the_output_root(make_site: SiteFactory, tmp_path: Path) -> None:
    built = build(newsletter_site(make_site), out_dir=tmp_path / "elsewhere")
    assert built is not None
    assert (tmp_path / "elsewhere" / "newsletter" / WEEK / "email.html").is_file()


def test_same_week_twice_gives_identical_bytes(make_site: SiteFactory, tmp_path: Path) -> None:
    site_dir = newsletter_site(make_site)
    first = build(site_dir, out_dir=tmp_path / "one")
    assert first is not None
    with syndicate.Site.open(site_dir) as site:
        later = AFTER_WEEK.replace(year=2027)
        second = build_issue(site, WEEK, now=later, out_dir=tmp_path / "two")
    assert second is not None
    names = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(names) == 7
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    again = build(site_dir, out_dir=tmp_path / "one")
    assert again is not None and again.written == []


def test_web_copy_has_no_per_subscriber_data_and_email_keeps_the_markers(make_site: SiteFactory) -> None:
    built = build(newsletter_site(make_site))
    assert built is not None
    web = (built.folder / "index.html").read_text()
    email_html = (built.folder / "email.html").read_text()
    text = (built.folder / "email.txt").read_text()
    for marker in placeholders.ALL + placeholders.LEGACY:
        assert marker not in web
    # The archive's copies show the fixed markers, never the sending process's random ones.
    for marker in ("%%SYN_GREETING%%", "%%SYN_EMAIL%%", "%%SYN_UNSUBSCRIBE_URL%%"):
        assert marker in email_html and marker in text
    assert not any(marker in email_html + text for marker in placeholders.ALL)
    assert built.problems == []


def test_message_eml_is_multipart_alternative_utf8_with_a_one_line_subject(make_site: SiteFactory) -> None:
    built = build(newsletter_site(make_site))
    assert built is not None
    raw = (built.folder / "message.eml").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "serialised with CRLF line ends"
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert message["Subject"] == "Festival Opens With A Restored Classic"
    assert message["To"] == "Sample Reader <reader@example.com>"
    assert "List-Unsubscribe=One-Click" in message["List-Unsubscribe-Post"]
    text, body = parts[0].get_content(), parts[1].get_content()
    assert "Hi Sample," in text and "Hi Sample," in body
    for marker in placeholders.ALL:
        assert marker not in text and marker not in body
    assert "https://test.example.org/unsubscribe?token=sample" in body


def test_archive_page_and_feed_list_every_sent_issue_never_a_preview(make_site: SiteFactory) -> None:
    """The archive is what was sent (tests/test_newsletter_archive.py has the rest)."""
    site_dir = newsletter_site(make_site)
    assert build(site_dir) is not None
    assert build(site_dir, "2026-W47") is not None
    archive = site_dir / "public" / "newsletter"
    page = lxml_html.fromstring((archive / "index.html").read_bytes())
    assert page.xpath("//main//h2/a") == []  # built, not sent: previews are not listed
    with syndicate.Site.open(site_dir) as site:
        for week in (WEEK, "2026-W47"):
            rendered = prepare_issue(site, week, now=AFTER_WEEK)
            assert rendered is not None
            site.store.ledger.open_issue(week, rendered.subject, issue_to_json(rendered), [], AFTER_WEEK)
            publish_issue(site, week, now=AFTER_WEEK + timedelta(days=7))
    page = lxml_html.fromstring((archive / "index.html").read_bytes())
    assert [a.get("href") for a in page.xpath("//main//h2/a")] == [
        "https://test.example.org/newsletter/2026-W47/",
        "https://test.example.org/newsletter/2026-W46/",
    ]
    feed = feedparser.parse((archive / "rss.xml").read_bytes())
    assert feed.bozo == 0
    assert [e.link for e in feed.entries] == [
        "https://test.example.org/newsletter/2026-W47/",
        "https://test.example.org/newsletter/2026-W46/",
    ]
    assert feed.entries[1].title == "Festival Opens With A Restored Classic"


def test_a_broken_issue_json_is_reported_not_fatal(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    broken = site_dir / "public" / "newsletter" / "2026-W10" / "issue.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    built = build(site_dir)
    assert built is not None
    assert any("2026-W10" in p.path and "issue.json" in p.message for p in built.problems)


def test_prepare_issue_contract(make_site: SiteFactory) -> None:
    with syndicate.Site.open(newsletter_site(make_site)) as site:
        rendered = prepare_issue(site, WEEK, now=AFTER_WEEK)
        empty = prepare_issue(site, "2026-W30", now=AFTER_WEEK)
    assert empty is None
    assert rendered is not None
    assert rendered.week == WEEK and rendered.subject == "Festival Opens With A Restored Classic"
    assert rendered.story_urls[0] == "https://test.example.org/festival-lead/"
    assert placeholders.UNSUBSCRIBE_URL in rendered.html and placeholders.UNSUBSCRIBE_URL in rendered.text
    assert rendered.web_html and placeholders.UNSUBSCRIBE_URL not in rendered.web_html


def test_site_templates_override_the_defaults_file_by_file(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    (site_dir / "templates").mkdir()
    (site_dir / "templates" / "newsletter.subject.j2").write_text(
        "This week:\n{{ lead.title }}\r\n({{ stories | length }} stories)\n"
    )
    built = build(site_dir)
    assert built is not None
    assert built.rendered.subject == "This week: Festival Opens With A Restored Classic (4 stories)"
    assert "Read the story" in built.rendered.html, "the other templates are still the packaged ones"


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["newsletter", *args])
    return result.exit_code, result.output


def test_cli_build_prints_json_and_empty_week_exits_5(make_site: SiteFactory) -> None:
    site_dir = str(newsletter_site(make_site))
    code, out = run_cli("build", "--site", site_dir, "--week", WEEK, "--now", "2026-11-20T12:00", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert [s["slug"] for s in report["stories"]] == WEEK_SLUGS
    assert report["due"] == "2026-11-20T07:00:00+00:00"
    code, out = run_cli("build", "--site", site_dir, "--week", "2026-W30")
    assert code == 5
    assert "no issue built" in out
    code, out = run_cli("build", "--site", site_dir, "--week", "2026-W30", "--force")
    assert code == 0, out
    assert (Path(site_dir) / "public" / "newsletter" / "2026-W30" / "email.html").is_file()


def test_cli_default_week_is_the_latest_complete_week(make_site: SiteFactory) -> None:
    site_dir = str(newsletter_site(make_site))
    code, out = run_cli("build", "--site", site_dir, "--now", "2026-11-18T12:00", "--json")
    assert code == 0, out
    assert json.loads(out)["week"] == WEEK


def test_cli_rejects_a_bad_week(make_site: SiteFactory) -> None:
    code, out = run_cli("build", "--site", str(newsletter_site(make_site)), "--week", "2026-47")
    assert code == 2
    assert "YYYY-Www" in out


def test_cli_preview_prints_paths_and_sizes(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    code, out = run_cli("preview", "--site", str(site_dir), "--week", WEEK)
    assert code == 0, out
    assert "email.html" in out and "message.eml" in out and "KB" in out
    assert "Gmail" in out


def test_cli_strict_turns_check_warnings_into_exit_1(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    partials = site_dir / "templates" / "partials"
    partials.mkdir(parents=True)
    (partials / "footer.mjml.j2").write_text(
        '<mj-section><mj-column><mj-text><a href="/relative/">About</a> '
        '<a href="{{ placeholders.unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section>\n'
    )
    code, out = run_cli("build", "--site", str(site_dir), "--week", WEEK)
    assert code == 0 and "/relative/" in out
    code, out = run_cli("build", "--site", str(site_dir), "--week", WEEK, "--strict")
    assert code == 1


def test_config_names_the_bad_newsletter_key(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site, NEWSLETTER_CONFIG + 'image_aspect = "wide"\n')
    code, out = run_cli("build", "--site", str(site_dir), "--week", WEEK)
    assert code == 3
    assert "newsletter.image_aspect" in out


def test_demo_site_builds_its_latest_week(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site:
        week = default_week(site, DEMO_NOW)
        built = build_issue(site, week, now=DEMO_NOW)
    assert week == "2026-W47"
    assert built is not None and built.issue.stories
    in_issue = {s.article.slug for s in built.issue.stories}
    for story in built.issue.stories:
        assert len(story.related) == 3
        assert not {p.slug for p in story.related} & in_issue
    assert [p.message for p in built.problems if "postal_address" not in p.message] == []


def test_weeks_are_cut_in_the_site_timezone(make_site: SiteFactory) -> None:
    chicago = NEWSLETTER_CONFIG.replace('timezone = "Europe/London"', 'timezone = "America/Chicago"')
    story = '---\ntitle: "{title}"\ndate: {date}\n---\nText.\n'
    site_dir = make_site(
        {
            # Sunday evening in Chicago is already Monday in UTC: it still belongs to W46.
            "sunday-night.md": story.format(title="Sunday Night", date="2026-11-15 20:00"),
            "monday-morning.md": story.format(title="Monday Morning", date="2026-11-16 00:30"),
        },
        chicago,
    )
    built = build(site_dir)
    assert built is not None
    assert [s.article.slug for s in built.issue.stories] == ["sunday-night"]


def test_newsletter_settings_shape_the_issue(make_site: SiteFactory) -> None:
    config = NEWSLETTER_CONFIG + "max_stories = 2\nrelated_count = 2\n"
    built = build(newsletter_site(make_site, config))
    assert built is not None
    assert [s.article.slug for s in built.issue.stories] == WEEK_SLUGS[:2]
    assert all(len(s.related) == 2 for s in built.issue.stories)
