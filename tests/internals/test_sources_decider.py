"""The update decider's rules, with no I/O at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicate._model import Source, SourceHealth
from syndicate._sources.decider import (
    MAX_RETRY_AFTER,
    FetchOutcome,
    OutcomeKind,
    Policy,
    backoff_delay,
    due_sources,
    is_due,
    move_is_settled,
    next_health,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = Policy(backoff=timedelta(minutes=30), backoff_max=timedelta(hours=24), moved_after_runs=3)


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [backoff_delay(n, POLICY) for n in range(0, 9)]
    assert delays[:5] == [
        timedelta(0),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
    ]
    assert delays[-1] == timedelta(hours=24)
    assert backoff_delay(10_000, POLICY) == timedelta(hours=24)


def test_failure_counts_and_schedules_the_next_attempt() -> None:
    health = SourceHealth("u", etag='"a"', failures=2)
    after = next_health(health, FetchOutcome(OutcomeKind.FAILED, 500, "HTTP 500"), NOW, POLICY)
    assert after.failures == 3
    assert after.next_attempt == NOW + timedelta(hours=2)
    assert after.etag == '"a"'  # validators survive a failure
    assert after.last_error == "HTTP 500" and after.last_status == 500 and after.last_attempt == NOW
    assert health.failures == 2  # no side effects


def test_success_resets_failures_and_stores_validators() -> None:
    health = SourceHealth("u", failures=4, next_attempt=NOW, last_error="boom")
    after = next_health(
        health, FetchOutcome(OutcomeKind.FETCHED, 200, etag='"b"', last_modified="x", entries=7), NOW, POLICY
    )
    assert (after.failures, after.next_attempt, after.last_error, after.last_success) == (0, None, "", NOW)
    assert (after.etag, after.last_modified, after.entries) == ('"b"', "x", 7)


def test_not_modified_keeps_validators_and_entry_count() -> None:
    health = SourceHealth("u", etag='"a"', last_modified="old", entries=12)
    after = next_health(health, FetchOutcome(OutcomeKind.NOT_MODIFIED, 304), NOW, POLICY)
    assert (after.etag, after.last_modified, after.entries, after.last_success) == ('"a"', "old", 12, NOW)


def test_gone_disables_the_source() -> None:
    after = next_health(SourceHealth("u"), FetchOutcome(OutcomeKind.GONE, 410, "gone"), NOW, POLICY)
    assert after.disabled and not is_due(after, NOW + timedelta(days=999))
    assert due_sources([Source("u", "U")], {"u": after}, NOW, force=True) == []


def test_retry_after_is_honoured_and_capped() -> None:
    throttled = FetchOutcome(OutcomeKind.THROTTLED, 429, retry_after=timedelta(seconds=90))
    assert next_health(SourceHealth("u"), throttled, NOW, POLICY).next_attempt == NOW + timedelta(seconds=90)
    absurd = FetchOutcome(OutcomeKind.THROTTLED, 503, retry_after=timedelta(days=400))
    assert next_health(SourceHealth("u"), absurd, NOW, POLICY).next_attempt == NOW + MAX_RETRY_AFTER
    without = FetchOutcome(OutcomeKind.THROTTLED, 503)
    assert next_health(SourceHealth("u"), without, NOW, POLICY).next_attempt == NOW + timedelta(minutes=30)


def test_due_sources_respects_backoff_unless_forced() -> None:
    sources = [Source("a", "A"), Source("b", "B"), Source("c", "C")]
    healths = {"a": SourceHealth("a", next_attempt=NOW + timedelta(minutes=5)), "b": SourceHealth("b")}
    assert [s.url for s in due_sources(sources, healths, NOW)] == ["b", "c"]
    assert [s.url for s in due_sources(sources, healths, NOW, force=True)] == ["a", "b", "c"]
    assert [s.url for s in due_sources(sources, healths, NOW + timedelta(minutes=5))] == ["a", "b", "c"]


def test_a_move_settles_only_after_it_holds_for_n_runs() -> None:
    moved = FetchOutcome(OutcomeKind.FETCHED, 200, moved_to="https://new.example/feed")
    health = SourceHealth("u")
    for run in range(1, 4):
        health = next_health(health, moved, NOW, POLICY)
        assert health.moved_runs == run
        assert move_is_settled(health, POLICY) == (run >= 3)
    # A run without the redirect resets the count.
    health = next_health(health, FetchOutcome(OutcomeKind.FETCHED, 200), NOW, POLICY)
    assert (health.moved_to, health.moved_runs) == ("", 0)
    # A different target starts again at one.
    health = next_health(health, moved, NOW, POLICY)
    other = FetchOutcome(OutcomeKind.FETCHED, 200, moved_to="https://other.example/feed")
    assert next_health(health, other, NOW, POLICY).moved_runs == 1
