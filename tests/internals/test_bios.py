"""Desk bios in the shapes newsrooms write them: who, what, and how to reach them.

A corpus of varied closing bios (places with commas, "is a … based in …",
"covers …", two bylines, contact lines in several forms), each with what must
be read from it; and story paragraphs that must never be taken for a bio.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate._collection.bios import is_contact_line, looks_like_bio, read_bio, read_contact

# (paragraph, names, emails, handles)
CORPUS: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    (
        "Based in Portland, Oregon, Jane Doe writes about documentaries and festivals. Email Jane | @janedoe",
        ("Jane Doe",),
        (),
        ("@janedoe",),
    ),
    ("Based in Chicago, Jane Doe covers documentaries and festivals.", ("Jane Doe",), (), ()),
    (
        "Based in Paris, Île-de-France, France, Amélie Laurent reviews French cinema for Example Site.",
        ("Amélie Laurent",),
        (),
        (),
    ),
    ("Based in Austin, Texas, Marcus O'Neil reports on the business of independent film.", ("Marcus O'Neil",), (), ()),
    (
        "Based out of Lagos, Nigeria, Chidi Okafor writes about Nollywood and the African box office.",
        ("Chidi Okafor",),
        (),
        (),
    ),
    (
        "Based in Toronto, Ontario, Canada, Priya Venkataraman is a critic and festival programmer.",
        ("Priya Venkataraman",),
        (),
        (),
    ),
    ("Jane Doe is a critic based in Los Angeles, California.", ("Jane Doe",), (), ()),
    (
        "Elliot Marchetti is a freelance film critic based in Rome, Italy. Email: elliot@marchetti.example",
        ("Elliot Marchetti",),
        ("elliot@marchetti.example",),
        (),
    ),
    ("Sam Lee is a Chicago-based writer who covers animation.", ("Sam Lee",), (), ()),
    (
        "Ana de la Cruz is a journalist based in Mexico City, where she covers Latin American film.",
        ("Ana de la Cruz",),
        (),
        (),
    ),
    ("Jane Doe covers documentaries and festivals for Reel Dispatch.", ("Jane Doe",), (), ()),
    ("Tomás Ruiz writes about genre cinema, restorations and the midnight circuit.", ("Tomás Ruiz",), (), ()),
    ("Hannah Becker reports on streaming deals and the economics of distribution.", ("Hannah Becker",), (), ()),
    ("Kwame Mensah reviews new releases every week.", ("Kwame Mensah",), (), ()),
    ("Mary-Kate Sullivan has covered the Sundance Film Festival since 2009.", ("Mary-Kate Sullivan",), (), ()),
    ("Jane Q. Public is the senior film critic at Reel Dispatch.", ("Jane Q. Public",), (), ()),
    ("Rafael Ortega Jr. is a contributing editor at Reel Dispatch.", ("Rafael Ortega Jr.",), (), ()),
    ("Jane Doe and Sam Lee cover the festival circuit for Reel Dispatch.", ("Jane Doe", "Sam Lee"), (), ()),
    ("Jane Doe & Sam Lee are critics based in Berlin, Germany.", ("Jane Doe", "Sam Lee"), (), ()),
    (
        "Based in Seoul, South Korea, Min-jun Park and Ji-woo Kim write about Korean cinema.",
        ("Min-jun Park", "Ji-woo Kim"),
        (),
        (),
    ),
    (
        "Jane Doe covers documentaries. Her work has appeared in Sight Lines and The Reel. Email Jane | @janedoe",
        ("Jane Doe",),
        (),
        ("@janedoe",),
    ),
    (
        "Lena Fischer writes about European art-house film. Contact her at lena.fischer@example.de or on Bluesky "
        "@lena.bsky.social",
        ("Lena Fischer",),
        ("lena.fischer@example.de",),
        ("@lena.bsky.social",),
    ),
    (
        "Oskar Nilsson is a film journalist based in Stockholm, Sweden. Follow him on Mastodon @oskar@film.social",
        ("Oskar Nilsson",),
        (),
        ("@oskar@film.social",),
    ),
    (
        "Daniel Cho covers awards season. Twitter: @dcho | Email: daniel.cho@reeldispatch.example.com",
        ("Daniel Cho",),
        ("daniel.cho@reeldispatch.example.com",),
        ("@dcho",),
    ),
    ("Zoë Ølstad writes about Nordic television and film.", ("Zoë Ølstad",), (), ()),
    ("Ludwig van der Berg is a critic based in Amsterdam.", ("Ludwig van der Berg",), (), ()),
    (
        "Fatima Al-Sayed reports on the Gulf's growing film industry. Email: fatima@example.org",
        ("Fatima Al-Sayed",),
        ("fatima@example.org",),
        (),
    ),
    ("Living in Brooklyn, New York, Ruth Adler writes about repertory cinemas.", ("Ruth Adler",), (), ()),
    (
        "From Melbourne, Victoria, Australia, Chris Nguyen covers the Asia-Pacific festival scene.",
        ("Chris Nguyen",),
        (),
        (),
    ),
    ("Priya Raman, a critic based in Mumbai, India, writes about Hindi and Tamil cinema.", ("Priya Raman",), (), ()),
    ("Owen Price is a columnist for Reel Dispatch.", ("Owen Price",), (), ()),
    ("Grace Liu is a New York-based reporter covering labor in Hollywood.", ("Grace Liu",), (), ()),
    (
        "Based in Dublin, Ireland, Siobhán Ní Bhriain is a critic and broadcaster. @siobhan_nb",
        ("Siobhán Ní Bhriain",),
        (),
        ("@siobhan_nb",),
    ),
]

NOT_BIOS = [
    "The Ninth Lamp is the director's third feature and her most personal.",
    "Based on the novel by Ada Moore, the film follows three sisters across a winter.",
    "The festival covers three continents and forty screens this year.",
    "It is the studio's biggest opening since 2019, based on early estimates.",
    "Tickets go on sale Friday at 10 a.m. local time.",
    "Lumen Pictures paid a reported $12 million for North American rights.",
    "The restoration was based on the original camera negative.",
    "Director Ana Ortiz said the film was shot in eleven days.",
]


def test_the_corpus_has_at_least_thirty_bios() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize(("paragraph", "names", "emails", "handles"), CORPUS, ids=[c[1][0] for c in CORPUS])
def test_desk_bios_are_read(
    paragraph: str, names: tuple[str, ...], emails: tuple[str, ...], handles: tuple[str, ...]
) -> None:
    bio = read_bio(paragraph)
    assert bio is not None, paragraph
    assert bio.names == names
    assert bio.contact.emails == emails
    assert bio.contact.handles == handles
    # The contact line is contact data, not bio prose.
    for contact in (*emails, *handles):
        assert contact not in bio.text
    assert "Email Jane" not in bio.text


@pytest.mark.parametrize("paragraph", NOT_BIOS)
def test_story_paragraphs_are_not_bios(paragraph: str) -> None:
    assert read_bio(paragraph) is None


def test_contact_lines_on_their_own() -> None:
    for line in ("Email Jane | @janedoe", "jane@example.com | @janedoe", "@janedoe", "Follow Jane on X @janedoe"):
        assert is_contact_line(line), line
    assert not is_contact_line("The festival runs until Sunday.")
    contact = read_contact("Email jane@example.com | @janedoe | @jane@mastodon.social")
    assert contact.emails == ("jane@example.com",)
    assert contact.handles == ("@janedoe", "@jane@mastodon.social")


def test_unrecognised_bios_still_look_like_bios_for_check() -> None:
    assert looks_like_bio("the critic covers festivals. Her work has appeared in The Reel.")
    assert not looks_like_bio("Tickets go on sale Friday.")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_bio_or_none(text: str) -> None:
    bio = read_bio(text)
    if bio is not None:
        assert 1 <= len(bio.names) <= 2 and all(bio.names)
