"""The product's source read as data: its modules, what each imports (inside functions too), the private names it
reaches, and the tables its SQL names. The layout tests check the house rules of docs/layout.md against this."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("edge", "hub", "protocol", "provisioning", "firmware_hooks")
SQL_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?|ON)\s+(?:main\.)?([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. edge.sync.client
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def modules(roots: tuple[str, ...] = PRODUCT) -> dict[str, Module]:
    found = {}
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def imported_names(module: Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, names) for every import statement, wherever it stands (functions included)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target, [a.name for a in node.names]


def import_edges(mods: dict[str, Module]) -> dict[str, set[str]]:
    """module -> product modules it imports; `from pkg import mod` counts as importing pkg.mod."""
    edges: dict[str, set[str]] = {}
    for name, module in mods.items():
        targets = set()
        for _, target, names in imported_names(module):
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in mods]
            targets.update(subs or ([target] if target in mods else []))
        edges[name] = targets - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def private_reaches(module: Module) -> Iterator[str]:
    """`x._name` where x is not self or cls, and `from m import _name`: another object's or module's insides."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                yield f"{module.path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield f"{module.path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}"


def sql_tables(module: Module, known: set[str]) -> dict[str, int]:
    """Known tables named by the SQL in this module's string literals (f-strings' text parts included) -> line."""
    named: dict[str, int] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table in SQL_TABLE.findall(node.value):
                if table in known:
                    named.setdefault(table, node.lineno)
    return named
