"""Recognise the author bio that closes a news-desk story, and the contact line after it.

Desk copy ends with a paragraph about who wrote it, in a handful of shapes
newsrooms use (see DESIGN.md)::

    Based in Portland, Oregon, Jane Doe writes about documentaries ...
    Jane Doe is a film critic based in Toronto, Ontario, Canada.
    Jane Doe covers festivals and awards for Example Site.
    Jane Doe and Sam Lee cover the festival circuit ...
    ... Email Jane | @janedoe

:func:`read_bio` returns the people it names (one or two), the bio text, and
the e-mail addresses and social handles of a closing contact line, which is
taken out of the bio: it is contact data, not prose. A paragraph that is not
recognised returns ``None``; :func:`looks_like_bio` tells whether it still
reads like one, so ``check`` can quote it instead of publishing it as story text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One capitalised word of a name: "Jane", "O'Neil", "Mary-Kate", "Q.", "José", "Ølstad".
_WORD = r"[A-Z\u00c0-\u00de\u0100-\u017f][\w'\u2019.-]*"
_PARTICLE = r"(?:de|da|das|do|dos|del|della|la|le|van|von|der|den|di|du|bin|ibn|al|el|y|St\.)"
_ONE_NAME = rf"{_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{1,3}}(?:,?\s+(?:Jr\.|Sr\.|II|III|IV))?"
# One or two people: "Jane Doe", "Jane Doe and Sam Lee", "Jane Doe & Sam Lee". A sentence that opens
# with an article or a pronoun ("The Ninth Lamp is ...") names a thing, not a person.
_NOT_A_NAME = r"(?!(?:The|A|An|This|That|These|Those|It|Its|Our|Their|His|Her|We|They|He|She)\b)"
_NAMES = rf"(?P<names>{_NOT_A_NAME}{_ONE_NAME}(?:\s+(?:and|&)\s+{_ONE_NAME})?)"
_VERBS = (
    r"(?:writes|write|covers|cover|reports|report|reviews|review|edits|edit|is|are|has|have|was|were|"
    r"contributes|contribute|joined|joins|produces|hosts|programs|teaches|lives|live|spent|previously|works|work)"
)
_ROLE = (
    r"(?:critic|writer|editor|reporter|correspondent|journalist|contributor|columnist|programmer|"
    r"freelancer|blogger|podcaster|essayist|critics|writers|editors|reporters|correspondents|journalists|"
    r"contributors|columnists)"
)

_PATTERNS = (
    # "Based in Portland, Oregon, Jane Doe writes ...": the name is what stands before the verb.
    re.compile(
        rf"^(?:Based|Living|Now based|Currently based)\s+(?:in|out of)\s+.{{2,120}}?,\s+{_NAMES},?\s+{_VERBS}\b"
    ),
    # "From Portland, Oregon, Jane Doe covers ..."
    re.compile(rf"^(?:From|Out of)\s+.{{2,120}}?,\s+{_NAMES},?\s+{_VERBS}\b"),
    # "Jane Doe is a critic based in ...", "Jane Doe is a Chicago-based writer", "... are critics based in ..."
    re.compile(rf"^{_NAMES},?\s+(?:is|are)\s+(?:an?|the)?\s*[^.]{{0,120}}?(?:\bbased\s+in\b|-based\b|\blives\s+in\b)"),
    # "Jane Doe is the senior film critic at ...", "Jane Doe is a contributing editor ..."
    re.compile(rf"^{_NAMES},?\s+(?:is|are|was|were)\s+(?:an?|the|our)\s+[^.]{{0,60}}?\b{_ROLE}\b"),
    # "Priya Raman, a critic based in Mumbai, India, writes about ..."
    re.compile(rf"^{_NAMES},\s+(?:an?|the|our)\s+[^.]{{0,160}}?(?:\b{_ROLE}\b|\bbased\s+in\b|-based\b)"),
    # "Jane Doe covers ...", "Jane Doe writes about ...", "Jane Doe has covered ..."
    re.compile(
        rf"^{_NAMES},?\s+(?:has\s+|have\s+)?(?:writes|write|written|covers|cover|covered|reports|report|reported|"
        r"reviews|review|reviewed|edits|edit|edited|contributes|contribute|contributed)\b"
    ),
)

_EMAIL = re.compile(r"(?<![\w.+@-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# "@janedoe", "@jane.bsky.social", "@jane@mastodon.social": not the domain part of an e-mail address.
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?")
# Where a contact line starts inside a bio paragraph: "Email Jane | @janedoe", "Follow her on X @jdoe".
_CONTACT_START = re.compile(
    r"(?:^|(?<=[.!?])\s+)(?P<contact>(?:E-?mail|Contact|Follow|Reach|Find|Write to|Tips?:|Twitter|X:|Bluesky|"
    r"Mastodon|Instagram|Threads)\b.*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*(?:\||$).*|@[A-Za-z0-9_][\w.-]*\s*(?:\||$).*)$",
    re.I,
)
_BIO_HINTS = re.compile(
    r"\b(?:based in|-based|covers|writes about|reports on|is a [\w\s-]{0,40}(?:critic|writer|editor|reporter|"
    r"journalist|correspondent)|her work|his work|their work|has appeared in)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Contact:
    """The addresses and handles of a closing contact line."""

    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class DeskBio:
    """A recognised bio: who (one or two people), what it says, and how to reach them."""

    names: tuple[str, ...]
    text: str
    contact: Contact

    @property
    def name(self) -> str:
        return self.names[0]


def read_contact(text: str) -> Contact:
    """The e-mail addresses and social handles in a contact line."""
    emails = tuple(dict.fromkeys(_EMAIL.findall(text)))
    without_emails = _EMAIL.sub(" ", text)
    handles = tuple(dict.fromkeys(_HANDLE.findall(without_emails)))
    return Contact(emails, handles, text.strip())


def is_contact_line(paragraph: str) -> bool:
    """Whether a whole paragraph is a contact line ("Email Jane | @janedoe", "jane@example.com")."""
    text = paragraph.strip()
    if not text or len(text) > 300:
        return False
    match = _CONTACT_START.match(text)
    return bool(match and match.start("contact") == 0)


def split_contact(paragraph: str) -> tuple[str, Contact]:
    """``paragraph`` without its closing contact line, and that line's contact data."""
    text = paragraph.strip()
    match = _CONTACT_START.search(text)
    if match is None:
        return text, Contact()
    contact_text = match.group("contact")
    found = read_contact(contact_text)
    if not (found.emails or found.handles or re.match(r"(?:E-?mail|Contact|Follow)\b", contact_text, re.I)):
        return text, Contact()
    return text[: match.start("contact")].rstrip(), found


def _split_names(names: str) -> tuple[str, ...]:
    parts = re.split(r"\s+(?:and|&)\s+", names.strip())
    return tuple(part.strip().rstrip(",") for part in parts if part.strip())


def read_bio(paragraph: str) -> DeskBio | None:
    """The bio's people, text and contact, if ``paragraph`` is an author bio in a shape desks use."""
    text, contact = split_contact(" ".join(paragraph.split()))
    if not text or len(text) > 2000:
        return None
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            names = _split_names(match.group("names"))
            if names:
                return DeskBio(names, text, contact)
    return None


def looks_like_bio(paragraph: str) -> bool:
    """Whether an unrecognised paragraph still reads like an author bio (to report it, quoted)."""
    text = " ".join(paragraph.split())
    if len(text) > 1200:
        return False
    return bool(_BIO_HINTS.search(text)) or is_contact_line(text)
