"""What a command group of `village-hub` or `village-edge` needs from argparse to add its subcommands, as a typing
Protocol.

`add_subparsers()` returns a class argparse keeps private; this names the one method the groups call on it.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol


class Subcommands(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...
