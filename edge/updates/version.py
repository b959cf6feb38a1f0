"""Which version of the project this process runs: the installed metadata of the slot on the path, not a constant.

A slot's wheel carries its own `villagenet-X.dist-info`, first on PYTHONPATH, so a process started from slot `b`
reports b's version and the base installation reports its own.
"""

from __future__ import annotations

import importlib.metadata

UNKNOWN = "0.0.0"


def running_version() -> str:
    try:
        return importlib.metadata.version("villagenet")
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN
