"""A small site that exercises every feature of the feeds, for tests that need more than one article.

The demo site (the repository root) is used as well once it has content; this
one is always there, so feed tests never depend on the demo's exact articles.
"""

from __future__ import annotations

SAMPLE_CONFIG = """\
[site]
title = "Sample Reel"
url = "https://sample.example.org/news"
timezone = "America/Chicago"
language = "en-us"
description = "Film news for tests & more"

[feeds]
limit = 4
ttl = 30

[authors.jane-doe]
name = "Jane Doe"
bio = "Jane covers festivals."
email = "jane@sample.example.org"
"""

SAMPLE_ARTICLES: dict[str, str] = {
    "festival-opens.md": """
        ---
        id: urn:uuid:6f1c2a52-8d1e-4f7b-9a39-000000000001
        title: "Lakeshore Festival Opens With “The Ninth Lamp”"
        date: 2026-10-14 09:30
        author: Jane Doe
        tags: [Festivals, Horror]
        image: /images/lamp.jpg
        summary: The festival opens with a ghost story.
        ---
        The **Lakeshore** festival opened with [a ghost story](/ninth-lamp/) & more.

        ![The lamp](/images/lamp-still.png)
        """,
    "restoration.md": """
        ---
        id: urn:uuid:6f1c2a52-8d1e-4f7b-9a39-000000000002
        title: Archive Restores a Lost Silent Comedy
        date: 2026-10-20T14:00:00+02:00
        updated: 2026-10-22 10:00
        author: Omar Haddad
        tags: [Restoration, Silent Film]
        ---
        A nitrate print turned up in an attic. <em>Remarkable</em>, said the archivist.

        | Reel | State |
        |------|-------|
        | 1    | good  |
        """,
    "box-office.md": """
        ---
        id: urn:uuid:6f1c2a52-8d1e-4f7b-9a39-000000000003
        title: "Weekend Box Office: Horror Holds On"
        date: 2026-10-27
        author: Jane Doe
        tags: [Horror, Box Office]
        ---
        Ghost stories did well for a <third> weekend in a row.
        """,
    "interview.md": """
        ---
        id: urn:uuid:6f1c2a52-8d1e-4f7b-9a39-000000000004
        title: "Q&A: A Composer on Scoring Silence"
        date: 2026-11-02 18:15
        author: Omar Haddad
        tags: [Music, Silent Film]
        related: [restoration]
        ---
        We talked about scores for silent films.
        """,
    "preview.md": """
        ---
        id: urn:uuid:6f1c2a52-8d1e-4f7b-9a39-000000000005
        title: Five Films to Watch This Winter
        date: 2026-11-10 08:00
        author: Jane Doe
        tags: [Festivals]
        ---
        A preview of the season.
        """,
    "draft.md": """
        ---
        title: Unfinished Draft About Festivals
        date: 2026-11-01
        author: Jane Doe
        tags: [Festivals]
        draft: true
        ---
        Not yet.
        """,
    "scheduled.md": """
        ---
        title: Scheduled Story From The Future
        date: 2027-01-15 09:00
        author: Jane Doe
        tags: [Festivals]
        ---
        Embargoed.
        """,
}
