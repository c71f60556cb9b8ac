"""The crontab line that runs ``syndicate run`` for a site, as cron will run it.

Cron starts jobs in the home folder with a bare environment (``PATH`` is
``/usr/bin:/bin``) and hands the command to ``sh -c``: the line names this
installation's executable by absolute path, changes into the site folder,
passes the secrets file and appends to a log.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._config import Config
from ._errors import InvalidArgumentError

DEFAULT_SCHEDULE = "*/10 * * * *"
RUN_LOG = "run.log"


@dataclass(frozen=True, slots=True)
class CronLine:
    """A crontab line (``schedule`` and ``command``) and what it relies on."""

    schedule: str
    command: str
    site_root: Path
    log_path: Path
    has_secrets: bool  # an env file or [newsletter] secret_file is named: sending will find SYNDICATE_SECRET

    @property
    def line(self) -> str:
        return f"{self.schedule} {self.command}"

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "schedule": self.schedule,
            "command": self.command,
            "site": str(self.site_root),
            "log": str(self.log_path),
            "has_secrets": self.has_secrets,
        }


def _executable() -> list[str]:
    """How cron should start this very installation: the script beside this Python, else ``python -m``."""
    python = Path(sys.executable).absolute()  # not resolved: a venv's python is a symlink to the system one
    script = python.parent / "syndicate"
    if script.is_file():
        return [str(script)]
    return [str(python), "-m", "syndicate"]


def cron_command(site_root: Path, *, env_file: Path | None, log: Path, quiet: bool = True) -> str:
    """The command part of the crontab line (what cron hands to ``sh -c``)."""
    command = [*_executable(), "run"]
    if quiet:
        command.append("--quiet")
    if env_file is not None:
        command += ["--env-file", str(env_file.expanduser().absolute())]
    line = f"cd {shlex.quote(str(site_root))} && {shlex.join(command)} >> {shlex.quote(str(log))} 2>&1"
    if "%" in line:  # cron turns % into a newline; escape it
        line = line.replace("%", "\\%")
    return line


def cron_line(
    config: Config, schedule: str = DEFAULT_SCHEDULE, *, env_file: Path | None = None, log: Path | None = None
) -> CronLine:
    """The crontab line for the site of ``config``; creates the log's folder (the shell's ``>>`` would fail).

    Raises :class:`~syndicate._errors.InvalidArgumentError` unless ``schedule``
    is the five crontab time fields.
    """
    if len(schedule.split()) != 5:
        raise InvalidArgumentError("give the five crontab time fields, e.g. '*/10 * * * *'")
    log_path = (log.expanduser().absolute() if log else config.state_dir / RUN_LOG).absolute()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return CronLine(
        schedule=schedule,
        command=cron_command(config.root, env_file=env_file, log=log_path),
        site_root=config.root,
        log_path=log_path,
        has_secrets=env_file is not None or bool(config.newsletter.secret_file),
    )
