"""Bodies rendered in background processes while the build computes related stories."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import spy_on_first_arguments

import syndicate
from syndicate._collection import ahead as ahead_module
from syndicate._collection import load_bodies, load_collection, render_bodies_ahead
from syndicate._collection.context import ArticleContext
from syndicate._collection.loader import is_stub
from syndicate._collection.loader import load_bodies as read_bodies
from syndicate._feeds import xmlfeeds


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo site is small: render its bodies ahead as a large site would.
    monkeypatch.setattr(ahead_module, "PARALLEL_THRESHOLD", 1)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_build_with_bodies_rendered_ahead_writes_the_same_bytes(
    demo_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(demo_site, copy)
    with syndicate.Site.open(demo_site) as site:
        site.build()
    monkeypatch.setattr(ahead_module, "PARALLEL_THRESHOLD", 1)
    started: list[int] = []
    real_start = ahead_module.BodiesAhead.start.__func__  # type: ignore[attr-defined]

    def counting(cls: type[ahead_module.BodiesAhead], /, *args: object, **kwargs: object) -> ahead_module.BodiesAhead:
        made: ahead_module.BodiesAhead = real_start(cls, *args, **kwargs)
        started.append(len(made._children))
        return made

    monkeypatch.setattr(ahead_module.BodiesAhead, "start", classmethod(counting))
    # The child built the feed entries of the articles it rendered too: none is built again here.
    built_here = spy_on_first_arguments(monkeypatch, xmlfeeds, "_feedgen_entries")
    monkeypatch.setattr(syndicate._feeds, "PARALLEL_SETS", 10_000)  # feeds rendered here, where we count
    with syndicate.Site.open(copy) as site:
        site.build()
    assert started and started[0] >= 1  # children really rendered the bodies
    articles_built_here = {item.source_path for item in built_here if isinstance(item, syndicate.Article)}
    # Plain-text articles are whole from the start (nothing to render ahead); Markdown ones all came prebuilt.
    # (The demo ships its desk copy imported as Markdown, so none may be built here at all.)
    assert all(path.endswith(".txt") for path in articles_built_here)
    assert _outputs(copy / "public") == _outputs(demo_site / "public")


def test_rendered_ahead_bodies_are_the_bodies_load_bodies_renders(demo_site: Path, eager: None) -> None:
    with syndicate.Site.open(demo_site) as site:
        stubs = load_collection(site.config, with_bodies=False).articles
        assert any(is_stub(a) for a in stubs)
        expected = load_bodies(site.config, stubs)
        with render_bodies_ahead(site.config, stubs) as ahead:
            rendered = ahead.rendered()
            assert {p for p in rendered} == {a.source_path for a in stubs if is_stub(a)}
            assert load_bodies(site.config, stubs, ahead=ahead) == expected


def test_bodies_the_caller_can_do_without_are_cached_whole_but_not_returned(demo_site: Path, eager: None) -> None:
    with syndicate.Site.open(demo_site) as site:
        stubs = load_collection(site.config, with_bodies=False).articles
        expected = load_bodies(site.config, stubs)
        skipped = [a for a in stubs if is_stub(a)][:2]
        bodiless = {(a.source_path, a.content_hash) for a in skipped}
        cache = site.store.article_cache
        context = ArticleContext.from_config(site.config)
        with render_bodies_ahead(site.config, stubs) as ahead:
            found = read_bodies(stubs, site.config.root, context, cache, ahead=ahead, bodiless=bodiless)
        kept = {a.source_path: expected[a.slug] for a in stubs if a.slug in expected and a not in skipped}
        assert found == kept
        # Their whole parses went to the cache all the same: the next load reads them from there.
        assert load_bodies(site.config, skipped, cache) == {a.slug: expected[a.slug] for a in skipped}


def test_a_failed_child_leaves_its_part_to_be_rendered_as_usual(
    demo_site: Path, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with syndicate.Site.open(demo_site) as site:
        stubs = load_collection(site.config, with_bodies=False).articles
        expected = load_bodies(site.config, stubs)
        broken = next(a for a in stubs if is_stub(a))

        def failing(job: tuple[syndicate.Article, str], context: object) -> tuple[str, object]:
            if job[0].slug == broken.slug:
                raise RuntimeError("worker crashed")
            return real(job, context)  # type: ignore[arg-type]

        real = ahead_module.complete_stub  # type: ignore[attr-defined]
        monkeypatch.setattr(ahead_module, "complete_stub", failing)
        with render_bodies_ahead(site.config, stubs) as ahead:
            rendered = ahead.rendered()
            assert broken.source_path not in rendered  # that child wrote nothing
            assert len(rendered) < sum(map(is_stub, stubs))
            assert load_bodies(site.config, stubs, ahead=ahead) == expected


def test_uncollected_children_are_stopped_and_their_files_removed(demo_site: Path, eager: None) -> None:
    with syndicate.Site.open(demo_site) as site:
        stubs = load_collection(site.config, with_bodies=False).articles
        with render_bodies_ahead(site.config, stubs) as ahead:
            children = [pid for pid, _ in ahead._children]
            folder = ahead._folder
            assert children and folder is not None and folder.exists()
        assert not folder.exists()
        for pid in children:
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_nothing_is_started_for_bodies_the_parse_cache_holds(demo_site: Path, eager: None) -> None:
    with syndicate.Site.open(demo_site) as site:
        site.build()  # caches the whole parse of every published article
        now = datetime.now(UTC)
        stubs = [a for a in load_collection(site.config, with_bodies=False).articles if a.is_published(now)]
        assert any(is_stub(a) for a in stubs)
        with render_bodies_ahead(site.config, stubs, site.store.article_cache) as ahead:
            assert ahead._children == [] and ahead.rendered() == {}


@pytest.mark.parametrize("failing", ["mkdtemp", "fork"])
def test_without_room_to_work_ahead_the_bodies_are_rendered_as_usual(
    demo_site: Path, eager: None, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise OSError(11, "Resource temporarily unavailable")

    with syndicate.Site.open(demo_site) as site:
        stubs = load_collection(site.config, with_bodies=False).articles
        expected = load_bodies(site.config, stubs)
        with monkeypatch.context() as patch:
            patch.setattr(tempfile if failing == "mkdtemp" else os, failing, refuse)
            ahead = render_bodies_ahead(site.config, stubs)
        with ahead:
            assert ahead._children == [] and ahead.rendered() == {}
            assert load_bodies(site.config, stubs, ahead=ahead) == expected
