"""The bounce classifier and the VERP parser read hostile input: they never raise and never guess."""

from __future__ import annotations

from bounce_samples import FORMATS, arf, gmail, out_of_office
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate._newsletter.bounces import BounceKind, classify_message
from syndicate._newsletter.verp import VerpAddresses

VERP = VerpAddresses(b"test-secret-0123456789abcdef", "bounces@test.example.org")
PATH = VERP.address(7, "2026-W47", "reader7@example.net")


def test_each_format_is_classified_with_the_return_path_first_and_the_quoted_address_kept_apart() -> None:
    for build in FORMATS.values():
        report = classify_message(build(PATH, "someone.else@example.net"))
        assert report is not None and report.kind is BounceKind.HARD
        assert report.return_paths[0] == PATH
        assert report.quoted_recipients == ("someone.else@example.net",)


def test_complaints_delays_and_non_reports() -> None:
    complaint = classify_message(arf(PATH, "x@example.net"))
    assert complaint is not None and complaint.kind is BounceKind.COMPLAINT and PATH in complaint.return_paths
    assert classify_message(arf(PATH, "x@example.net", feedback_type="not-spam")) is None
    delayed = classify_message(gmail(PATH, "x@example.net", action="delayed", status="4.4.7"))
    assert delayed is not None and delayed.kind is BounceKind.SOFT
    assert classify_message(gmail(PATH, "x@example.net", action="delivered", status="2.0.0")) is None
    assert classify_message(out_of_office(PATH)) is None


def test_verp_round_trip_and_case_folding() -> None:
    claimed = VERP.parse(PATH.upper())  # some servers fold the local part's case
    assert claimed is not None and claimed.subscriber_id == 7 and claimed.week == "2026-W47"
    assert VERP.verify(claimed, "Reader7@Example.net")
    assert not VERP.verify(claimed, "reader8@example.net")
    other = VerpAddresses(b"another-secret-0123456789", "bounces@test.example.org")
    forged = other.parse(other.address(7, "2026-W47", "reader7@example.net"))
    assert forged is not None and not VERP.verify(forged, "reader7@example.net")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_classify_without_raising(data: bytes) -> None:
    report = classify_message(data)
    if report is not None:
        assert len(report.detail) <= 300 and len(report.return_paths) <= 20


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([*FORMATS.values()]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200),
)
def test_hostile_quoted_addresses_never_raise_nor_leak_control_characters(build: object, quoted: str) -> None:
    assert callable(build)
    report = classify_message(build(PATH, quoted))
    if report is not None:
        for text in (report.detail, *report.quoted_recipients, *report.return_paths):
            assert not any(ord(c) < 32 or ord(c) == 127 for c in text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_verp_parse_never_raises(address: str) -> None:
    claimed = VERP.parse(address)
    if claimed is not None:
        assert claimed.subscriber_id >= 0 and len(claimed.signature) == 16
