"""Finding 11: a damaged state database, a read-only output folder and a full disk end in one line and an exit code.

Real files throughout: the state database is a real SQLite file damaged on
disk; the read-only folder and the full disk are a read-only and a tiny tmpfs
mounted in a private mount namespace (``unshare -m``) when the test runs as
root (where chmod stops nothing), else a chmod 0555 folder; the full disk is
also a file-size limit (RLIMIT_FSIZE) on the subprocess, which the CLI turns
from a silent SIGXFSZ kill into EFBIG, reported as "disk full".
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import REPO, SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, relay, site_config, write_subscribers

from syndicate import Site, import_subscribers
from syndicate.cli import ExitCode, main

__all__ = ["relay"]

PAGE = 4096


def _database(site: Path) -> Path:
    with Site.open(site) as opened:
        return opened.config.database_path


def _built(sample_site: Path) -> Path:
    """The sample site after one build, with a subscriber: its state database is populated."""
    result = CliRunner().invoke(main, ["build", "--site", str(sample_site)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["subscribers", "add", "ann@example.org", "--site", str(sample_site)])
    assert result.exit_code == 0, result.output
    database = _database(sample_site)
    # Fold the WAL into the main file, so damaging the file damages what every connection reads.
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


def _garbage_pages_from_2(database: Path) -> None:
    size = database.stat().st_size
    with database.open("r+b") as handle:
        handle.seek(PAGE)
        handle.write(bytes([0xA5]) * (size - PAGE))


def _truncated(database: Path) -> None:
    size = database.stat().st_size
    with database.open("r+b") as handle:
        handle.truncate(max(PAGE * 2, size // 3))


def _not_sqlite(database: Path) -> None:
    database.write_text("this is a shopping list, not a database\n" * 200, encoding="utf-8")


def _table_root_page(database: Path, table: str = "article_cache") -> None:
    """Damage only one table's pages: the store opens and migrates fine, a later query meets the damage."""
    with sqlite3.connect(database) as connection:
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    with database.open("r+b") as handle:
        handle.seek((root - 1) * PAGE)
        handle.write(bytes([0xA5]) * PAGE)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "pages-2-to-end": _garbage_pages_from_2,
    "truncated": _truncated,
    "not-sqlite": _not_sqlite,
}

COMMANDS = [
    ["build"],
    ["check"],
    ["fetch"],
    ["sources", "list"],
    ["subscribers", "list"],
    ["subscribers", "add", "bob@example.org"],
    ["newsletter", "build"],
    ["newsletter", "send"],
    ["related", "festival-opens"],
    ["serve", "--port", "0"],
]


def _assert_one_line_error(output: str, *needles: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], output


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_says_the_state_database_is_damaged(sample_site: Path, damage: str, command: list[str]) -> None:
    database = _built(sample_site)
    DAMAGE[damage](database)
    result = CliRunner(env={"SYNDICATE_SECRET": "unsubscribe-secret-0123456789"}).invoke(
        main, [*command, "--site", str(sample_site)]
    )
    assert result.exit_code == ExitCode.STATE_DAMAGED, result.output
    _assert_one_line_error(result.stderr, str(database), "is damaged", "syndicate state check", "restore")
    assert "Traceback" not in result.stdout


def test_damage_met_mid_command_is_the_same_one_line_error(sample_site: Path) -> None:
    # Migrations pass (schema_migrations is intact); the build meets the bad page while reading its cache.
    database = _built(sample_site)
    _table_root_page(database)
    (sample_site / "content" / "festival-opens.md").touch()
    result = CliRunner().invoke(main, ["build", "--site", str(sample_site)])
    assert result.exit_code == ExitCode.STATE_DAMAGED, result.output
    _assert_one_line_error(result.stderr, str(database), "is damaged")


def test_damaged_database_through_a_real_process(sample_site: Path) -> None:
    database = _built(sample_site)
    _garbage_pages_from_2(database)
    done = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), "build", "--site", str(sample_site)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == ExitCode.STATE_DAMAGED
    _assert_one_line_error(done.stderr, str(database), "is damaged")


def test_the_library_raises_state_damaged_error(sample_site: Path) -> None:
    import syndicate

    database = _built(sample_site)
    _not_sqlite(database)
    with Site.open(sample_site) as site, pytest.raises(syndicate.StateDamagedError) as caught:
        site.build()
    assert isinstance(caught.value, syndicate.StoreError)
    assert caught.value.path == str(database)


# --- read-only output and a full disk -------------------------------------------------------------


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


CAN_MOUNT = _can_mount()


def _in_mount_namespace(mount: str, out: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a private mount namespace where ``out`` is mounted by ``mount``.

    The mount disappears with the namespace, so nothing is left mounted if the
    test dies. After the command, the script lists what is left in ``out``
    (the exit code is printed first), so leftovers are checked where the mount still exists.
    """
    quoted = " ".join(f"'{part}'" for part in command)
    script = textwrap.dedent(
        f"""
        set -e
        {mount}
        set +e
        {quoted}
        echo "exit=$?"
        find '{out}' -name '*.tmp' | sed 's/^/leftover: /'
        """
    )
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)


def _exit_of(done: subprocess.CompletedProcess[str]) -> int:
    line = next(line for line in done.stdout.splitlines() if line.startswith("exit="))
    return int(line.removeprefix("exit="))


CLI = [sys.executable, str(REPO / "cli.py")]


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare -m to mount a read-only tmpfs")
def test_build_into_a_read_only_folder_as_root(sample_site: Path, tmp_path: Path) -> None:
    # As root chmod 0555 stops nothing; a read-only bind mount of the built folder does (EROFS).
    out = tmp_path / "public"
    assert CliRunner().invoke(main, ["build", "--site", str(sample_site), "--out", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (sample_site / "content" / "festival-opens.md").write_text(
        (sample_site / "content" / "festival-opens.md").read_text().replace("ghost story", "ghost tale")
    )
    done = _in_mount_namespace(
        f"mount --bind '{out}' '{out}'; mount -o remount,ro,bind '{out}'",
        out,
        [*CLI, "build", "--site", str(sample_site), "--out", str(out)],
    )
    assert _exit_of(done) == ExitCode.NOT_WRITABLE, done
    _assert_one_line_error(done.stderr, str(out), "cannot write")
    assert "leftover" not in done.stdout
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_build_into_a_folder_that_cannot_be(sample_site: Path, tmp_path: Path) -> None:
    # Works as any user: the output "folder" lies under a regular file (ENOTDIR).
    blocker = tmp_path / "public"
    blocker.write_text("a file where the output folder should be\n")
    result = CliRunner().invoke(main, ["build", "--site", str(sample_site), "--out", str(blocker / "feeds")])
    assert result.exit_code == ExitCode.NOT_WRITABLE, result.output
    _assert_one_line_error(result.stderr, str(blocker), "cannot write")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes (see the read-only mount test)")
def test_build_into_a_chmod_read_only_folder(sample_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = CliRunner().invoke(main, ["build", "--site", str(sample_site), "--out", str(out)])
    finally:
        out.chmod(0o755)
    assert result.exit_code == ExitCode.NOT_WRITABLE, result.output
    _assert_one_line_error(result.stderr, str(out), "cannot write")
    assert not list(out.rglob("*.tmp"))


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare -m to mount a tiny tmpfs")
def test_build_onto_a_full_disk(sample_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    done = _in_mount_namespace(
        f"mount -t tmpfs -o size=12k tmpfs '{out}'",
        out,
        [*CLI, "build", "--site", str(sample_site), "--out", str(out)],
    )
    assert _exit_of(done) == ExitCode.DISK_FULL, done
    _assert_one_line_error(done.stderr, str(out), "disk full")
    assert "leftover" not in done.stdout, done.stdout


def test_build_past_a_file_size_limit_is_disk_full(sample_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"

    def limit_file_size() -> None:  # SIGXFSZ is left at its default: the CLI itself must ignore it
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    # Not measured by coverage: its data file could not be written under the limit either, and the
    # traceback coverage prints about it would land in the stderr under test.
    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
    done = subprocess.run(
        [*CLI, "build", "--site", str(sample_site), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size,
        env=env,
    )
    assert done.returncode == ExitCode.DISK_FULL, done
    _assert_one_line_error(done.stderr, "disk full")
    assert not list(out.rglob("*.tmp")) if out.exists() else True


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare -m to mount a tiny tmpfs")
def test_full_disk_in_forked_feed_writers_is_the_same_error(make_site: SiteFactory, tmp_path: Path) -> None:
    # Forty tags make forty feed sets: written by forked workers, whose error must cross back intact.
    articles = {
        f"story-{n}.md": f"---\ntitle: Story {n}\ndate: 2026-10-{1 + n % 28:02d} 09:00\ntags: [topic-{n}]\n---\n{n}\n"
        for n in range(40)
    }
    site = make_site(articles)
    out = tmp_path / "public"
    out.mkdir()
    done = _in_mount_namespace(
        f"mount -t tmpfs -o size=48k tmpfs '{out}'", out, [*CLI, "build", "--site", str(site), "--out", str(out)]
    )
    assert _exit_of(done) == ExitCode.DISK_FULL, done
    _assert_one_line_error(done.stderr, str(out), "disk full")
    assert "leftover" not in done.stdout, done.stdout


def test_write_errors_cross_process_boundaries_intact() -> None:
    import pickle

    import syndicate

    for error in (
        syndicate.DiskFullError("/srv/public/rss.xml", "disk full"),
        syndicate.NotWritableError("/srv/public", "cannot write here"),
        syndicate.StateDamagedError("/srv/.syndicate/state.sqlite3", "database disk image is malformed"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare -m to mount a tiny tmpfs")
def test_after_a_full_disk_the_next_build_writes_everything(sample_site: Path, tmp_path: Path) -> None:
    # Built once with room; the article changes; the disk fills up; space is freed; the edit must get out.
    out = tmp_path / "public"
    article = sample_site / "content" / "festival-opens.md"
    build = " ".join(f"'{part}'" for part in [*CLI, "build", "--site", str(sample_site), "--out", str(out)])
    script = textwrap.dedent(
        f"""
        mount -t tmpfs -o size=10m tmpfs '{out}' || exit 99
        {build} >/dev/null 2>&1 || exit 98
        sed -i 's/ghost story/phantom tale/' '{article}'
        dd if=/dev/zero of='{out}/filler' bs=1k count=10240 2>/dev/null
        {build} >/dev/null 2>&1; echo "full=$?"
        rm '{out}/filler'
        {build} >/dev/null 2>&1; echo "freed=$?"
        grep -c 'phantom tale' '{out}/tags/festivals/rss.xml' | sed 's/^/found=/'
        find '{out}' -name '*.tmp' | sed 's/^/leftover: /'
        """
    )
    out.mkdir()
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done
    lines = done.stdout.splitlines()
    assert f"full={int(ExitCode.DISK_FULL)}" in lines, done
    assert "freed=0" in lines, done
    assert "found=0" not in lines and any(line.startswith("found=") for line in lines), done
    assert not any(line.startswith("leftover") for line in lines), done


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare -m to mount a tiny tmpfs")
def test_full_disk_under_the_state_database_during_a_send(make_site: SiteFactory, relay: Relay) -> None:
    # The ledger cannot grow: the send stops with one line and exit 9; with room again it finishes the list.
    site = make_site(ARTICLES, config=site_config(relay.port))
    write_subscribers(site / "list.csv", 40)
    with Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
        state = opened.config.state_dir
    with sqlite3.connect(state / "state.sqlite3") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    saved = site / "state-saved"
    shutil.move(state, saved)
    state.mkdir()
    send = " ".join(f"'{part}'" for part in [*CLI, "newsletter", "send", "--site", str(site), "--week", WEEK])
    script = textwrap.dedent(
        f"""
        mount -t tmpfs -o size=2m tmpfs '{state}' || exit 99
        cp -a '{saved}'/. '{state}'/
        echo 0 > '{state}/send.lock'  # the lock's page is taken before the disk fills: the ledger is what fails
        dd if=/dev/zero of='{state}/filler' bs=4k 2>/dev/null
        {send} >/dev/null 2>'{site}/full.err'; echo "full=$?"
        rm '{state}/filler'
        {send} >/dev/null 2>'{site}/freed.err'; echo "freed=$?"
        """
    )
    env = {**os.environ, "SYNDICATE_SECRET": "unsubscribe-secret-0123456789"}
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120, env=env)
    lines = done.stdout.splitlines()
    full_err = (site / "full.err").read_text()
    assert f"full={int(ExitCode.DISK_FULL)}" in lines, (done, full_err)
    _assert_one_line_error(full_err, "disk full", str(state))
    assert "freed=0" in lines, (done, (site / "freed.err").read_text())
    counts = relay.counts()
    assert set(counts) == {f"reader{n}@example.net" for n in range(40)}
    assert set(counts.values()) == {1}  # the failed run recorded nothing as sent that was not, nor sent twice


@pytest.mark.parametrize(
    ("raised", "code", "needle"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/srv/public/rss.xml"), ExitCode.NOT_WRITABLE, "/srv/public"),
        (OSError(errno.ENOSPC, "No space left on device", "/srv/public/a.xml"), ExitCode.DISK_FULL, "disk full"),
        (OSError(errno.EFBIG, "File too large"), ExitCode.DISK_FULL, "disk full"),
        (ValueError("a bug of ours"), ExitCode.FAILED, "SYNDICATE_TRACEBACK"),
    ],
)
def test_the_top_level_handler_covers_commands_without_their_own(raised: Exception, code: int, needle: str) -> None:
    # A command added later without @handle_errors still ends in one line and a documented exit code.
    @click.command("explode")
    def explode() -> None:
        raise raised

    main.add_command(explode)
    try:
        result = CliRunner().invoke(main, ["explode"])
    finally:
        main.commands.pop("explode")
    assert result.exit_code == code, result.output
    _assert_one_line_error(result.stderr, needle)


def _open_and_close_repeatedly(site: str, times: int, start: object, failures: object) -> None:
    import multiprocessing.synchronize as mps
    from multiprocessing.queues import Queue

    assert isinstance(start, mps.Barrier) and isinstance(failures, Queue)
    for _ in range(times):
        start.wait()
        try:
            Site.open(Path(site)).close()
        except Exception as exc:  # every failure is reported to the parent, which asserts there were none
            failures.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_the_state_at_the_same_moment_all_succeed(sample_site: Path) -> None:
    """Two web workers starting together, or cron meeting a shell command, both open the state database.

    Seen in CI: a second process opening the file while another switched it to
    WAL or checkpointed it on close got "database is locked" at once, because
    SQLite does not run the busy handler for every open-time lock. Each open now
    waits such a lock out; here four processes open and close the file in step.
    """
    import multiprocessing

    Site.open(sample_site).close()
    context = multiprocessing.get_context("fork")
    workers, times = 4, 25
    start = context.Barrier(workers)
    failures = context.Queue()
    processes = [
        context.Process(target=_open_and_close_repeatedly, args=(str(sample_site), times, start, failures))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    reported = []
    while not failures.empty():
        reported.append(failures.get())
    failures.close()
    assert reported == []
    assert [process.exitcode for process in processes] == [0] * workers
