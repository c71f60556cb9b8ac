"""The public API, pinned: what ``import syndicate`` offers, and that nothing else is public by accident.

Like httpx's ``test_exported_members.py``: a name added to or dropped from
``syndicate.__all__`` fails here until this list is changed on purpose (and the
CHANGELOG says so).
"""

from __future__ import annotations

import ast
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import syndicate
import syndicate.cli

PUBLIC_NAMES = [
    "AddressRefused",
    "ArchiveStateError",
    "Article",
    "ArticleNotFoundError",
    "Author",
    "BackupResult",
    "BuildResult",
    "BuiltIssue",
    "Collection",
    "Config",
    "ConfigError",
    "CronLine",
    "DatabaseError",
    "DiskFullError",
    "DueIssue",
    "DuplicateSourceError",
    "ExpiredTokenError",
    "ExportResult",
    "FeedSet",
    "FetchReport",
    "FrontMatterError",
    "Image",
    "ImportResult",
    "InvalidAddressError",
    "InvalidArgumentError",
    "InvalidTokenError",
    "Issue",
    "IssueBuild",
    "IssueStory",
    "LedgerWriteError",
    "LockedError",
    "MailboxError",
    "NewsletterError",
    "NotWritableError",
    "OpmlImport",
    "OutboxWriteError",
    "OutsideEntry",
    "PreferenceError",
    "Problem",
    "Reference",
    "RelatedPick",
    "RelatedStories",
    "RelayUnavailableError",
    "RenderedIssue",
    "SecretMissingError",
    "SendReport",
    "Severity",
    "Site",
    "SiteCheck",
    "SiteNewsletter",
    "SiteParts",
    "SiteSources",
    "SiteSubscribers",
    "Source",
    "SourceChange",
    "SourceError",
    "SourceListError",
    "SourceResult",
    "SourceStatus",
    "SourcesHealth",
    "StateCheck",
    "StateDamagedError",
    "Store",
    "StoreError",
    "Subscriber",
    "SubscriberChange",
    "SubscriberList",
    "SubscriberStatus",
    "SyndicateError",
    "Tag",
    "TargetExistsError",
    "UnknownSourceError",
    "UnpublishResult",
    "WebhookRejected",
    "WriteError",
    "__version__",
    "build_issue",
    "build_site",
    "fetch_sources",
    "import_subscribers",
    "load_bodies",
    "load_collection",
    "load_config",
    "merged_stream",
    "prepare_issue",
    "render_feed_set",
    "send_newsletter",
    "site_feed_sets",
    "unsubscribe_app",
    "write_feed_sets",
]

TESTS = Path(__file__).parent


def test_the_exported_names_are_pinned() -> None:
    assert sorted(syndicate.__all__) == PUBLIC_NAMES
    # Nothing else public by accident: no helper import or leftover name beside the API.
    public_attributes = [n for n in dir(syndicate) if not n.startswith("_") and n != "cli"]  # cli: the public module
    assert public_attributes == [n for n in PUBLIC_NAMES if n[0] != "_"]


def test_every_exported_name_resolves_and_is_documented() -> None:
    for name in syndicate.__all__:
        value = getattr(syndicate, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"syndicate.{name} has no docstring"


def test_only_the_front_door_modules_are_public() -> None:
    public = sorted(
        info.name
        for info in pkgutil.walk_packages(syndicate.__path__, "syndicate.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    )
    assert public == ["syndicate.cli"]
    assert sorted(syndicate.cli.__all__) == ["ExitCode", "main"]


def test_every_exception_is_a_syndicate_error_and_exported() -> None:
    from syndicate import _errors

    for name, value in vars(_errors).items():
        if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == _errors.__name__:
            assert issubclass(value, syndicate.SyndicateError), name
            assert name in syndicate.__all__, f"{name} is raised but not exported"


def test_tests_outside_internals_use_only_the_public_api() -> None:
    """A test reaching into ``syndicate._*`` says so by living in ``tests/internals/``."""
    offenders = []
    for path in sorted(TESTS.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            offenders += [f"{path.name}: {m}" for m in modules if m.startswith("syndicate._")]
    assert offenders == []


def test_importing_the_package_and_the_command_line_loads_no_stage_it_does_not_use() -> None:
    # ``syndicate fetch`` from cron and a script that only opens a site should start quickly:
    # the build, the related engine (numpy, scipy) and the newsletter (Jinja2, MJML) load on first use.
    code = (
        "import sys, syndicate, syndicate.cli\n"
        "site_cls = syndicate.Site\n"
        "heavy = ['syndicate._build', 'syndicate._related', 'syndicate._feeds', 'syndicate._newsletter',"
        " 'syndicate._collection', 'numpy', 'scipy', 'jinja2', 'feedgen']\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
        "print(syndicate.build_site.__module__, 'syndicate._build' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "syndicate._build True"]
