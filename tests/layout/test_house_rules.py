"""The house rules of the code itself, checked on every run: no import circles, no reaching into another module's
insides, each edge table written by the package that owns it (docs/edge-data.md), a small edge top level."""

from __future__ import annotations

import re

import pytest

from .source_graph import ROOT, cycles, import_edges, imported_names, modules, private_reaches, sql_tables

MODULES = modules()
# Which top-level package may import which: edge and hub meet only in protocol; provisioning serves both.
ALLOWED = {
    "edge": {"edge", "protocol", "provisioning"},
    "hub": {"hub", "protocol", "provisioning"},
    "protocol": {"protocol"},
    "provisioning": {"provisioning", "protocol"},
    "firmware_hooks": {"firmware_hooks", "protocol"},
}
OUR_TOP_LEVEL = set(ALLOWED) | {"bench", "tests", "deploy"}
EDGE_TOP_LEVEL_MAX = 15
# Packages that apply whole batches in one transaction and so may name any table (docs/edge-data.md).
SQL_ANYWHERE = ("edge.feeds", "edge.sync")


def owners() -> dict[str, str]:
    text = (ROOT / "docs" / "edge-data.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([a-z_]+)` \| `(edge(?:\.[a-z_]+)*)` \|", text, re.MULTILINE))


def test_no_import_circle_in_the_product_counting_imports_inside_functions() -> None:
    assert cycles(import_edges(MODULES)) == []


def test_a_circle_of_imports_inside_functions_would_be_found() -> None:
    edges = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert cycles(edges) == [["a.x", "a.y", "a.z"]]


def test_each_top_level_package_imports_only_what_it_may() -> None:
    wrong = []
    for name, module in MODULES.items():
        top = name.split(".")[0]
        for line, target, _ in imported_names(module):
            other = target.split(".")[0]
            if other in OUR_TOP_LEVEL and other not in ALLOWED[top]:
                wrong.append(f"{module.path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_no_module_reaches_into_another_objects_or_modules_private_names() -> None:
    reaches = [r for module in MODULES.values() for r in private_reaches(module)]
    assert reaches == []


def test_the_edge_top_level_keeps_only_its_core_modules() -> None:
    top = sorted(p.name for p in (ROOT / "edge").glob("*.py"))
    assert len(top) <= EDGE_TOP_LEVEL_MAX, top


def test_every_edge_table_has_one_owner_in_the_docs() -> None:
    schema = (ROOT / "edge" / "schema.py").read_text(encoding="utf-8")
    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS ([a-z_]+)", schema))
    documented = owners()
    assert sorted(tables - set(documented)) == [], "tables without an owner in docs/edge-data.md"
    assert sorted(set(documented) - tables) == [], "docs/edge-data.md names tables the schema lacks"
    assert all(owner in MODULES for owner in documented.values())


def test_edge_modules_write_sql_only_for_tables_their_package_owns() -> None:
    table_owner = owners()
    wrong = []
    for name, module in MODULES.items():
        if not name.startswith("edge.") or name == "edge.schema" or name.startswith(SQL_ANYWHERE):
            continue
        for table, line in sql_tables(module, set(table_owner)).items():
            owner = table_owner[table]
            if name != owner and not name.startswith(owner + "."):
                wrong.append(f"{module.path.relative_to(ROOT)}:{line} names {table} (owned by {owner})")
    assert sorted(wrong) == []


@pytest.mark.parametrize("source, expected", [
    ("X = 'SELECT a FROM notices n JOIN replies r ON r.id = n.id'", {"notices", "replies"}),
    ("X = f'INSERT INTO blobs (a) VALUES ({1})'", {"blobs"}),
    ("X = 'the notices we keep'", set()),
])
def test_the_sql_reader_finds_the_tables_a_statement_names(source: str, expected: set[str]) -> None:
    import ast
    from pathlib import Path

    from .source_graph import Module

    module = Module("edge.example", Path("edge/example.py"), ast.parse(source))
    assert set(sql_tables(module, {"notices", "replies", "blobs"})) == expected
