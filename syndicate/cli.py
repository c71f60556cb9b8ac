"""The command line: ``main`` (the ``syndicate`` command) and its documented :class:`ExitCode` values."""

from ._cli import main
from ._cli.common import ExitCode

__all__ = ["ExitCode", "main"]
