"""The layering rules, read from the source with ``ast``: CLI never reaches the store, stages never the facade.

``syndicate/cli/`` parses arguments, calls one ``Site`` verb and prints; SQL
belongs to ``syndicate/store/`` alone. The stages below the facade take
``Config`` and ``Store``, so they must not import ``syndicate.site``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"
LOWER_LAYERS = ("newsletter", "sources", "feeds", "related", "collection", "store")


def imported_modules(source: str, package: str) -> list[str]:
    """Every module ``source`` (a module of ``package``) imports, as absolute dotted names.

    ``from .. import store`` imports the module ``syndicate.store``, so each
    imported name is listed after its ``from`` part as well.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return found


def imports_of(path: Path) -> list[str]:
    # A module's package is its folder, for an __init__.py as for any other module.
    return imported_modules(path.read_text(encoding="utf-8"), ".".join(path.parent.relative_to(PACKAGE.parent).parts))


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def modules_of(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules_of("cli"), ids=lambda p: p.name)
def test_the_cli_does_not_reach_the_store_or_sqlite(path: Path) -> None:
    forbidden = [
        module for module in imports_of(path) if _within(module, "syndicate.store") or _within(module, "sqlite3")
    ]
    assert not forbidden, f"{path.relative_to(PACKAGE.parent)} imports {sorted(set(forbidden))}: go through Site"


@pytest.mark.parametrize("path", modules_of(*LOWER_LAYERS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_do_not_import_the_facade(path: Path) -> None:
    facade = [module for module in imports_of(path) if _within(module, "syndicate.site")]
    assert not facade, f"{path.relative_to(PACKAGE.parent)} imports {sorted(set(facade))}: take Config and Store"


def test_the_import_reader_resolves_relative_imports() -> None:
    # The rules are only as good as this reader: check it on the forms the codebase uses.
    source = "from ..store import Store\nfrom .. import store\nimport sqlite3\nfrom . import common\n"
    found = imported_modules(source, "syndicate.cli")
    assert {"syndicate.store", "syndicate.store.Store", "sqlite3", "syndicate.cli.common"} <= set(found)
    assert "syndicate.site" in imported_modules("from ..site import Site\n", "syndicate.newsletter")
    assert "syndicate.site" in imported_modules("from .. import site\n", "syndicate.newsletter")
