"""The USB watcher inside `village-edge serve`: kernel uevents through pyudev, one stick at a time.

It listens to the kernel's own netlink messages, so it works without udevd (a loop device attach arrives as a
bare `change` without filesystem properties) as well as with it (a USB stick's `add`). Each attachment of a device
(the kernel's diskseq) is serviced once; the filesystem is probed from its first sectors. The watcher parses no
stick in the edge's own process: it gets the stick as a descriptor (stick_access.py) and FAT goes to the limited
parser process (provisioning/stick_parser.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from provisioning.stick import DirStick, StickError, StickFS, StickGone
from provisioning.stick_parser import IsolatedFatStick
from provisioning.stick_probe import probe_descriptor

from ..runtime import EdgeRuntime
from . import devices
from .activity import UsbActivity, activity_for
from .refused import PARSER_REFUSALS, RefusedSticks
from .stick_access import StickAccess, stick_access
from .stick_job import record_interrupted, record_unusable, service_stick

log = logging.getLogger(__name__)


class UsbWatcher:
    def __init__(self, rt: EdgeRuntime, accept_loop: bool | None = None) -> None:
        self.rt = rt
        self.accept_loop = devices.accept_loop() if accept_loop is None else accept_loop
        self.activity: UsbActivity = activity_for(rt.config.data_dir)
        self.refused = RefusedSticks(rt.config.data_dir)
        self.access: StickAccess = stick_access(self.accept_loop)
        self._monitor: Any = None
        self._handled: dict[str, str | None] = {}  # device name -> diskseq already serviced (or under way)
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.jobs_done = 0

    async def async_start(self) -> None:
        try:
            import pyudev

            context = pyudev.Context()
            monitor = pyudev.Monitor.from_netlink(context, source="kernel")
            monitor.filter_by("block")
            monitor.start()
        except Exception as exc:  # no netlink socket (a container without it): the box still serves
            self.activity.watcher = f"unavailable: {exc}"
            log.error("USB watcher cannot listen to kernel events (%s); sticks will not be noticed", exc)
            return
        self._monitor = monitor
        asyncio.get_running_loop().add_reader(monitor.fileno(), self._on_readable)
        self._worker = asyncio.create_task(self._work(), name="usb-watcher")
        self.activity.watcher = "running"
        for name in devices.existing_devices():  # a stick already in at power-on
            self.consider(name, at_start=True)
        log.info("USB watcher running (loop devices %s)", "accepted" if self.accept_loop else "ignored")

    async def async_stop(self) -> None:
        if self._monitor is not None:
            asyncio.get_running_loop().remove_reader(self._monitor.fileno())
            self._monitor = None
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self.activity.watcher = "off"

    def _on_readable(self) -> None:
        for _ in range(100):  # bounded: drain what is there, the loop calls again for more
            device = self._monitor.poll(timeout=0) if self._monitor is not None else None
            if device is None:
                return
            if device.subsystem == "block" and device.action in ("add", "change"):
                self.consider(device.sys_name)

    def consider(self, name: str, at_start: bool = False) -> None:
        if not devices.is_candidate(name, self.accept_loop):
            return
        seq = devices.disk_seq(name)
        if name in self._handled and self._handled[name] == seq:
            return  # the same attachment again (a loop attach sends several `change` events)
        self._handled[name] = seq
        if at_start and self.refused.has(devices.attachment_id(name)):
            # Still in since it was refused for what parsing it cost: reading it at every start would cost that
            # again (before the limits, a looping stick crash-looped the box). Out and in again reads it anew.
            log.warning("stick /dev/%s was refused before this start and is still in; not read again", name)
            return
        self._queue.put_nowait(name)

    async def _work(self) -> None:
        while True:
            name = await self._queue.get()
            try:
                await self.service_device(name)
            except Exception as exc:
                log.exception("servicing /dev/%s failed", name)
                record_unusable(self.rt.config.data_dir, f"/dev/{name}", StickError(
                    "internal_error", f"the box could not finish with this stick ({type(exc).__name__}: {exc});"
                    " take it out, and call the city's support if it happens again"))
            finally:
                self.jobs_done += 1
                self.activity.end()

    async def service_device(self, name: str) -> dict[str, Any] | None:
        device = f"/dev/{name}"
        try:
            fd = await asyncio.to_thread(self.access.open_device, name)
        except OSError as exc:
            log.warning("stick %s cannot be opened: %s", device, exc)
            return None
        except StickError as exc:  # the stick helper does not answer
            log.error("stick %s: %s", device, exc.detail)
            return record_unusable(self.rt.config.data_dir, device, exc)
        try:
            kind = await asyncio.to_thread(probe_descriptor, fd)
            if kind is None:
                return None
            self.activity.begin(device)
            return await self._service(name, device, fd, kind)
        finally:
            os.close(fd)

    async def _service(self, name: str, device: str, fd: int, kind: str) -> dict[str, Any] | None:
        data_dir = self.rt.config.data_dir

        def present() -> bool:
            return devices.still_present(name)

        try:
            if kind == "vfat":
                # Parsed by a child process with memory and time limits (provisioning/stick_parser.py).
                stick = await asyncio.to_thread(IsolatedFatStick, fd, True)
                try:
                    return await service_stick(self.rt, stick, device, self.activity, present)
                finally:
                    await asyncio.to_thread(_close_quietly, stick)
            if kind == "ext4":
                async with self.access.ext4_folder(name) as where:
                    return await service_stick(self.rt, DirStick(where, writable=False), device, self.activity,
                                               present)
            return record_unusable(data_dir, device, StickError(
                "unsupported_fs", f"this box cannot read {kind} sticks yet; format the stick as FAT32"))
        except StickGone as exc:
            log.warning("stick %s was pulled out during the work; put it back in to continue", device)
            return record_interrupted(data_dir, device, exc.detail + "; put it back in to continue")
        except StickError as exc:
            log.warning("stick %s cannot be used: %s", device, exc.detail)
            if exc.code in PARSER_REFUSALS:
                self.refused.add(devices.attachment_id(name), exc.code)
            return record_unusable(data_dir, device, exc)
        except Exception:
            # A real stick pulled mid-read fails with EIO (or pyfatfs's own error) before any check sees it gone.
            if present():
                raise
            log.warning("stick %s went away during the work; put it back in to continue", device)
            return record_interrupted(data_dir, device, StickGone().detail + "; put it back in to continue")


def _close_quietly(stick: StickFS) -> None:
    try:
        stick.close()
    except Exception as exc:  # a pulled stick cannot be flushed; there is nothing left to save on it
        log.warning("closing the stick failed: %s", exc)
