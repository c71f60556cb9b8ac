"""Rendering an Issue: links, images, footer, credits, subject and the plain-text part."""

from __future__ import annotations

import email
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SiteFactory
from lxml import html as lxml_html
from newsletter_samples import LONDON, NEWSLETTER_CONFIG, article, outside

from syndicate import Config, Issue, IssueStory, RelatedPick, load_config
from syndicate._dates import week_window
from syndicate._newsletter import placeholders
from syndicate._newsletter.checks import check_rendered
from syndicate._newsletter.personalise import Personaliser, recipient_values
from syndicate._newsletter.render import RenderOutput, default_environment, render_issue, week_range_label
from syndicate._newsletter.sample_message import sample_message

START, END = week_window("2026-W46", LONDON)


def config_for(make_site: SiteFactory, extra: str = "") -> Config:
    return load_config(make_site({}, NEWSLETTER_CONFIG + extra))


def sample_issue(lead_title: str | None = None) -> Issue:
    lead = article("lead-story", START + timedelta(days=2), featured=True, image=True, title=lead_title)
    second = article("second-story", START + timedelta(days=3), image=True)
    third = article("third-story", START + timedelta(days=1), tags=())
    related = tuple(
        RelatedPick(f"old-{i}", f"Old Story {i}", f"https://test.example.org/old-{i}/", 1.0) for i in range(9)
    )
    stream = [
        outside(
            1, "Trade Daily", START + timedelta(days=1), summary="<p>Big <b>deal</b> &amp; more</p><script>x()</script>"
        ),
        outside(2, "Trade Daily", START + timedelta(days=2)),
        outside(1, "Film Weekly", START + timedelta(days=2)),
    ]
    return Issue(
        week="2026-W46",
        start=START,
        end=END,
        stories=(
            IssueStory(lead, related[0:3]),
            IssueStory(second, related[3:6]),
            IssueStory(third, related[6:9]),
        ),
        around_the_web=tuple(stream),
    )


def render(config: Config, issue: Issue | None = None) -> RenderOutput:
    return render_issue(issue or sample_issue(), config, default_environment(config))


def hrefs(document: str) -> list[str]:
    return [a.get("href") for a in lxml_html.document_fromstring(document).iter("a")]


def test_default_rendering_passes_every_check(make_site: SiteFactory) -> None:
    config = config_for(make_site)
    out = render(config)
    problems = check_rendered(out.email_html, out.email_text, out.web_html, out.inline_css, out.story_links, "2026-W46")
    assert problems == []


def test_our_links_carry_utm_parameters_outside_links_do_not(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    ours = [h for h in hrefs(out.email_html) if h.startswith("https://test.example.org/")]
    assert ours
    for href in ours:
        query = parse_qs(urlsplit(href).query)
        assert query == {"utm_source": ["newsletter"], "utm_medium": ["email"], "utm_campaign": ["2026-W46"]}, href
    outside_links = [h for h in hrefs(out.email_html) if "example.net" in h]
    assert outside_links and all("utm_" not in h for h in outside_links)


def test_utm_can_be_switched_off_or_renamed(make_site: SiteFactory, tmp_path: Path) -> None:
    off = render(config_for(make_site, "utm = false\n"))
    assert "utm_" not in off.email_html and "utm_" not in off.email_text
    renamed = render(load_config(make_site({}, NEWSLETTER_CONFIG + 'utm_campaign = "weekly-{week}"\n', name="other")))
    assert "utm_campaign=weekly-2026-W46" in renamed.email_text


def test_images_are_absolute_with_alt_width_and_height(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    images = list(lxml_html.document_fromstring(out.email_html).iter("img"))
    assert len(images) == 2
    lead = images[0]
    assert lead.get("src") == "https://test.example.org/img/lead-story.jpg"
    assert lead.get("alt") == "Still of lead-story"
    assert (lead.get("width"), lead.get("height")) == ("552", "310")  # 16:9, rounded half to even
    assert all(img.get("width") and img.get("height") and img.get("alt") for img in images)


def test_inline_marked_styles_are_on_the_elements(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    root = lxml_html.document_fromstring(out.email_html)
    lead_title = root.find_class("lead-title")[0]
    assert "font-size: 30px" in lead_title.get("style")
    assert ".lead-title { font-family" not in out.email_html.split("</head>")[0], (
        "inline-marked rules are not left in <head>"
    )
    head = out.email_html.split("</head>")[0]
    assert "@media only screen and (max-width: 479px)" in head, "responsive rules stay in <head>"
    assert "mj-column-per-34" in head


def test_footer_has_reason_address_unsubscribe_and_view_in_browser(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    assert "subscribed to the weekly newsletter of Test Reel" in out.email_html
    assert "Test Reel Ltd, 1 Projector Lane, London N1 9AA" in out.email_html
    links = hrefs(out.email_html)
    assert placeholders.UNSUBSCRIBE_URL in links
    assert any(h.startswith("https://test.example.org/newsletter/2026-W46/?utm_") for h in links)
    assert f"Unsubscribe: {placeholders.UNSUBSCRIBE_URL}" in out.email_text
    assert "Test Reel Ltd, 1 Projector Lane" in out.email_text


def test_around_the_web_is_credited_per_source_linking_out(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    root = lxml_html.document_fromstring(out.email_html)
    credits = [(a.text_content(), a.get("href")) for p in root.find_class("atw-credit") for a in p.iter("a")]
    assert credits == [
        ("Trade Daily", "https://tradedaily.example.net/"),
        ("Trade Daily", "https://tradedaily.example.net/"),
        ("Film Weekly", "https://filmweekly.example.net/"),
    ]
    titles = [a.get("href") for a in root.find_class("atw-link")]
    assert titles == [
        "https://tradedaily.example.net/news/1",
        "https://tradedaily.example.net/news/2",
        "https://filmweekly.example.net/news/1",
    ]
    assert "via Trade Daily: https://tradedaily.example.net/news/1" in out.email_text
    assert "Big deal &amp; more" in out.email_html and "x()" not in out.email_html


def test_outside_text_is_escaped_not_trusted(make_site: SiteFactory) -> None:
    issue = sample_issue()
    evil = outside(9, 'Evil <img src=x onerror="alert(1)">', START, summary='<img src=x onerror="alert(1)">hi')
    issue = Issue(issue.week, issue.start, issue.end, issue.stories, (evil,))
    out = render(config_for(make_site), issue)
    root = lxml_html.document_fromstring(out.email_html)
    assert all(img.get("src", "").startswith("https://test.example.org/") for img in root.iter("img"))
    assert not [e for e in root.iter() if any(k.startswith("on") for k in e.attrib)]
    assert 'Evil <img src=x onerror="alert(1)">' in root.find_class("atw-credit")[0].text_content()


def test_text_part_is_written_for_text_and_has_every_story_link(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    assert "<" not in out.email_text.replace("<mailto", "")
    for link in out.story_links:
        assert link in out.email_text
    assert all(len(line) <= 72 or "://" in line for line in out.email_text.splitlines())


def test_subject_has_no_line_breaks_even_when_the_title_does(make_site: SiteFactory) -> None:
    config = config_for(make_site)
    out = render(config, sample_issue("A Title\r\nThat Breaks\nOver\u2028Lines"))
    assert out.subject == "A Title That Breaks Over Lines"
    issue = sample_issue("A Title\r\nThat Breaks\nOver\u2028Lines")
    from syndicate import RenderedIssue

    rendered = RenderedIssue(issue.week, out.subject, out.preheader, out.email_html, out.email_text, out.web_html)
    raw = sample_message(config, rendered, END)
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "A Title That Breaks Over Lines"
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    subject_lines = [line for line in header_block.split(b"\r\n") if line.lower().startswith(b"subject:")]
    assert len(subject_lines) == 1


def test_unicode_subject_is_encoded_and_round_trips(make_site: SiteFactory) -> None:
    config = config_for(make_site)
    out = render(config, sample_issue("Amélie returns — in 4K, at Cannes ★"))
    from syndicate import RenderedIssue

    rendered = RenderedIssue("2026-W46", out.subject, out.preheader, out.email_html, out.email_text)
    message = email.message_from_bytes(sample_message(config, rendered, END), policy=default_policy)
    assert message["Subject"] == "Amélie returns — in 4K, at Cannes ★"
    plain = message.get_body(("plain",))
    assert plain is not None and "Amélie" in plain.get_content()


def test_preheader_is_hidden_in_the_email_and_absent_from_the_web_copy(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    assert out.preheader.startswith("The summary of lead-story.")
    assert out.preheader in out.email_html and out.preheader not in out.web_html


def test_personalisation_substitutes_escaped_values(make_site: SiteFactory) -> None:
    out = render(config_for(make_site))
    values = recipient_values("Zoë <O'Hara>", "zoe@example.com", "https://u.example.org/u?t=a&b=c", for_html=True)
    page = Personaliser(out.email_html).fill(values)
    assert "Hi Zoë," in page and "zoe@example.com" in page
    assert 'href="https://u.example.org/u?t=a&amp;b=c"' in page
    assert not any(m in page for m in placeholders.ALL)


def test_empty_forced_issue_renders_without_a_lead(make_site: SiteFactory) -> None:
    out = render(config_for(make_site), Issue("2026-W46", START, END))
    assert out.subject == "Test Reel: the week of 9–15 November 2026"
    assert "No new stories this week." in out.email_html


@pytest.mark.parametrize(
    ("week", "label"),
    [
        ("2026-W46", "9–15 November 2026"),
        ("2026-W49", "30 November – 6 December 2026"),
        ("2026-W53", "28 December 2026 – 3 January 2027"),
    ],
)
def test_week_range_label(week: str, label: str) -> None:
    assert week_range_label(*week_window(week, LONDON)) == label


def test_the_inline_check_catches_mjml_output_that_was_not_inlined(make_site: SiteFactory) -> None:
    import mjml

    from syndicate._newsletter.checks import check_inlined
    from syndicate._newsletter.render import split_inline_styles, template_context

    config = config_for(make_site)
    env = default_environment(config)
    context = {**template_context(sample_issue(), config), "subject": "S", "preheader": "P", "web": False}
    source = env.get_template("newsletter.mjml.j2").render(context)
    body, css = split_inline_styles(source)
    plain = mjml.mjml2html(body)  # what mjml-python alone gives: <mj-style inline> is not inlined
    problems = check_inlined(plain, css, "e")
    assert any("'.lead-title' lacks inlined" in p.message for p in problems)
