"""A process and everything it started, read from /proc: `village-edge serve` is a supervisor whose child serves
(edge/updates/supervisor.py), and that child starts stick parsers of its own."""

from __future__ import annotations

from pathlib import Path


def _parent_of(pid: str) -> int | None:
    try:
        # The command name may hold spaces and parentheses; the fields after the last ")" do not.
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def process_tree(root: int) -> list[int]:
    """`root` and its living descendants, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := _parent_of(entry.name)) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop(0)
        tree.append(pid)
        pending.extend(sorted(children.get(pid, [])))
    return tree


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
