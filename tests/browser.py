"""Headless Chromium for the layout tests: one loader of its driver and one rule for skipping without it.

``bench/screenshot_newsletter.py`` knows where Chromium is and how to start it
offline (the newsletter's screenshots use it from the command line too).
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from conftest import REPO

# Only a loopback server answers: every other host resolves to nothing, so no request leaves the machine.
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def _screenshot_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshot_newsletter", REPO / "bench" / "screenshot_newsletter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shots = _screenshot_module()


def needs_chromium(what_is_not_checked: str) -> list[pytest.MarkDecorator]:
    """A test module's marks: a real outside client, skipped with a reason where Chromium is missing."""
    return [
        pytest.mark.client,
        pytest.mark.skipif(
            shots.chromium_path() is None,
            reason=f"chromium is not installed (apt-get install chromium; .ci/run installs it): {what_is_not_checked}",
        ),
    ]
