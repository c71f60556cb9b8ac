"""The layering rules, read from the source with ``ast``: CLI never reaches the store, stages never the facade.

``syndicate/_cli/`` parses arguments, calls one ``Site`` verb and prints: it
imports nothing of ``syndicate/_store/`` (SQL belongs there alone), runs no SQL
and writes no file. The stages below the facade take
``Config`` and ``Store``, so they must not import ``syndicate._site``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"
LOWER_LAYERS = ("_newsletter", "_sources", "_feeds", "_related", "_collection", "_store")


def imported_modules(source: str, package: str) -> list[str]:
    """Every module ``source`` (a module of ``package``) imports, as absolute dotted names.

    ``from .. import store`` imports the module ``syndicate._store``, so each
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


@pytest.mark.parametrize("path", modules_of("_cli"), ids=lambda p: p.name)
def test_the_cli_does_not_reach_the_store_or_sqlite(path: Path) -> None:
    forbidden = [
        module for module in imports_of(path) if _within(module, "syndicate._store") or _within(module, "sqlite3")
    ]
    assert not forbidden, f"{path.relative_to(PACKAGE.parent)} imports {sorted(set(forbidden))}: go through Site"


# Methods that run SQL or change files: the library does those, the CLI only prints.
WRITING_CALLS = frozenset(
    {"execute", "executemany", "executescript", "write_text", "write_bytes", "mkdir", "unlink", "rename", "rmdir"}
)


def writing_calls(source: str) -> list[str]:
    """The SQL-running or file-changing calls in ``source``, and every ``open()`` not plainly for reading."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in WRITING_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        elif isinstance(node.func, ast.Name) and node.func.id == "open":
            modes = list(node.args[1:2]) + [k.value for k in node.keywords if k.arg == "mode"]
            if not all(isinstance(mode, ast.Constant) and mode.value in ("r", "rb") for mode in modes):
                found.append(f"line {node.lineno}: open()")
    return found


@pytest.mark.parametrize("path", modules_of("_cli"), ids=lambda p: p.name)
def test_the_cli_runs_no_sql_and_writes_no_file(path: Path) -> None:
    found = writing_calls(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(PACKAGE.parent)}: {found}: the library writes, the CLI prints"


@pytest.mark.parametrize("path", modules_of(*LOWER_LAYERS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_do_not_import_the_facade(path: Path) -> None:
    facade = [module for module in imports_of(path) if _within(module, "syndicate._site")]
    assert not facade, f"{path.relative_to(PACKAGE.parent)} imports {sorted(set(facade))}: take Config and Store"


def test_the_import_reader_resolves_relative_imports() -> None:
    # The rules are only as good as this reader: check it on the forms the codebase uses.
    source = "from .._store import Store\nfrom .. import _store\nimport sqlite3\nfrom . import common\n"
    found = imported_modules(source, "syndicate._cli")
    assert {"syndicate._store", "syndicate._store.Store", "sqlite3", "syndicate._cli.common"} <= set(found)
    assert "syndicate._site" in imported_modules("from .._site import Site\n", "syndicate._newsletter")
    assert "syndicate._site" in imported_modules("from .. import _site\n", "syndicate._newsletter")
    writes = "db.execute('DELETE FROM x')\nopen(p, 'w')\nopen(p)\nopen(p, 'rb')\nPath(p).write_text('')\n"
    assert [call.split(": ")[1] for call in writing_calls(writes)] == [".execute()", "open()", ".write_text()"]
