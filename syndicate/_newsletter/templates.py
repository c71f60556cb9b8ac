"""Where newsletter templates come from: the site's own, then the packaged defaults.

The defaults live in the repository's top-level ``templates/`` folder, which
the wheel ships as ``syndicate/templates``. In an editable install that
package folder does not exist, so we fall back to the repository's folder. A
site's ``templates/`` overrides the defaults file by file (a Jinja2
``ChoiceLoader``): copy one partial, change it, and the rest stay stock.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from .._config import Config
from .._errors import NewsletterError

# Templates whose output is HTML or MJML are autoescaped; text ones are not.
_ESCAPED_SUFFIXES = (".mjml.j2", ".html.j2")


def packaged_templates_dir() -> Path:
    """The folder of the default templates (inside the wheel, or the repository's)."""
    packaged = Path(str(resources.files("syndicate") / "templates"))
    if (packaged / "newsletter.mjml.j2").is_file():
        return packaged
    repository = Path(__file__).resolve().parent.parent.parent / "templates"
    if (repository / "newsletter.mjml.j2").is_file():
        return repository
    raise NewsletterError(
        f"syndicate's default newsletter templates are missing (looked in {packaged} and {repository})"
    )


def template_dirs(config: Config) -> list[Path]:
    """The folders searched, first match wins: the site's templates, then the defaults."""
    folders = []
    site_dir = config.path(config.site.templates_dir)
    if site_dir.is_dir():
        folders.append(site_dir)
    folders.append(packaged_templates_dir())
    return folders


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith(_ESCAPED_SUFFIXES)


def template_environment(folders: list[Path]) -> jinja2.Environment:
    """A Jinja2 environment over ``folders`` (earlier ones override later ones).

    ``StrictUndefined`` makes a typo in a site's override fail loudly instead
    of silently sending an email with a blank where the headline should be.
    """
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(folder)) for folder in folders])
    env = jinja2.Environment(
        loader=loader,
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env
