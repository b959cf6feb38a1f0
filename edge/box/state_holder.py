"""The running edge's view of its provisioned state, re-read when the state file changes.

A bundle may be applied by the CLI or the USB watcher while the edge runs; whoever reads `current` sees it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from edge.box.provisioned import STATE_FILE, ProvisionedState, load_state, mark_enrolled, node_key
from protocol.keys import NodeKey
from protocol.trust import TrustDocument


class StateHolder:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.key: NodeKey = node_key(data_dir)
        self._mtime: int | None = None
        self._state: ProvisionedState | None = None
        self._trust: TrustDocument | None = None
        self.changed = asyncio.Event()
        self.refresh()

    def refresh(self) -> ProvisionedState | None:
        path = self.data_dir / STATE_FILE
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return None
        if mtime != self._mtime:
            self._mtime = mtime
            self._state = load_state(self.data_dir)
            self._trust = None
            self.changed.set()
        return self._state

    @property
    def current(self) -> ProvisionedState | None:
        return self.refresh()

    def trust(self) -> TrustDocument:
        state = self.refresh()
        if state is None:
            raise RuntimeError("not provisioned")
        if self._trust is None:
            self._trust = state.trust()
        return self._trust

    def set_enrolled(self, trust_raw: bytes) -> ProvisionedState:
        state = self.refresh()
        assert state is not None
        new = mark_enrolled(self.data_dir, state, trust_raw)
        self._mtime = None
        self.refresh()
        return new
