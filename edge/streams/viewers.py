"""Who is watching: viewers per stream, counted from segment requests, one per device (X-Device-Id or ?device=).

A device counts while it keeps fetching segments; one that stops drops out after the window. Memory is bounded:
old sightings are swept, and a stream keeps at most MAX_DEVICES_PER_STREAM devices.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edge.lan.discovery import DeviceTable

MAX_DEVICES_PER_STREAM = 20_000
TOUCH_EVERY_S = 5.0
MAX_TOUCHES_REMEMBERED = 20_000


def viewing_device(devices: DeviceTable, device_id: str | None, remote: str | None) -> str:
    """The device a segment request counts for: its id (X-Device-Id or ?device=), else its address, so several
    STBs behind one NAT count once. An id is also a sign of life from that STB, beside mDNS."""
    if device_id and len(device_id) <= 64:
        devices.touch(device_id, remote)
        return device_id
    return f"addr:{remote}"


class SignsOfLife:
    """viewing_device() for a path that sees every viewer request (edge/serving): the device table hears of an id
    at once, then again at most every TOUCH_EVERY_S. A live viewer asks twice a second while the table drops a
    device after 90 s of silence (and the staff page shows "seen N s ago"); touching on every request cost a tenth
    of the live path's CPU, and an id the table refused (it was full) logged a warning per request."""

    def __init__(self, devices: DeviceTable) -> None:
        self.devices = devices
        self._touched: dict[tuple[str, str | None], float] = {}  # (device id, address) -> when passed on

    def device(self, device_id: str | None, remote: str | None) -> str:
        if not device_id or len(device_id) > 64:
            return f"addr:{remote}"
        key = (device_id, remote)
        now = time.monotonic()
        if now - self._touched.get(key, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            if len(self._touched) >= MAX_TOUCHES_REMEMBERED:
                self._touched.clear()
            self._touched[key] = now
            self.devices.touch(device_id, remote)
        return device_id


class ViewerTracker:
    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, dict[str, float]] = {}  # stream id -> device -> last segment request

    def saw(self, stream_id: str, device: str) -> None:
        devices = self._seen.setdefault(stream_id, {})
        if device not in devices and len(devices) >= MAX_DEVICES_PER_STREAM:
            self.sweep()
            if len(devices) >= MAX_DEVICES_PER_STREAM:
                return
        devices[device] = self.clock()

    def count(self, stream_id: str) -> int:
        cutoff = self.clock() - self.window_s
        return sum(1 for at in self._seen.get(stream_id, {}).values() if at >= cutoff)

    def counts(self) -> dict[str, int]:
        """Viewers now of every stream someone watched within the window."""
        self.sweep()
        return {sid: len(devices) for sid, devices in self._seen.items() if devices}

    def sweep(self) -> None:
        cutoff = self.clock() - self.window_s
        for sid in list(self._seen):
            devices = {d: at for d, at in self._seen[sid].items() if at >= cutoff}
            if devices:
                self._seen[sid] = devices
            else:
                del self._seen[sid]
