"""mDNS on the village LAN: the edge advertises itself and keeps a table of the STBs it can see.
Liveness is checked by the edge itself, because mDNS record lifetimes alone would keep a vanished STB for an hour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from zeroconf import (
    DNSOutgoing,
    DNSQuestion,
    DNSQuestionType,
    IPVersion,
    RecordUpdate,
    RecordUpdateListener,
    ServiceStateChange,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from edge.lan.mdns_txt import (
    DEVICE_ID_MAX,
    TXT_MAX_BYTES,
    TXT_MAX_KEY,
    TXT_VALUE_MAX,
    StbAdvert,
    check_txt,
    normalize_device_id,
    parse_stb_txt,
)

__all__ = [
    "DEVICE_ID_MAX",
    "EDGE_SERVICE_TYPE",
    "STB_SERVICE_TYPE",
    "TXT_MAX_BYTES",
    "TXT_MAX_KEY",
    "TXT_VALUE_MAX",
    "Device",
    "DeviceTable",
    "Discovery",
    "StbAdvert",
    "check_txt",
    "edge_txt",
    "normalize_device_id",
    "parse_stb_txt",
]

log = logging.getLogger(__name__)

EDGE_SERVICE_TYPE = "_villagenet._tcp.local."
HTTP_SERVICE_TYPE = "_http._tcp.local."
STB_SERVICE_TYPE = "_villagestb._tcp.local."
TV_PATH = "/tv/"
API_VERSION = "1"

# DNS numbers (RFC 1035, RFC 2782); zeroconf keeps its own copies private.
_TYPE_TXT = 16
_TYPE_SRV = 33
_CLASS_IN = 1
_FLAGS_QUERY = 0x0000

# Enough questions per re-check packet to stay well inside one 1,500-byte Ethernet frame.
_NAMES_PER_QUERY = 16
_RESOLVE_TIMEOUT_MS = 3000

ChangeKind = Literal["added", "updated", "removed"]
ChangeCallback = Callable[[ChangeKind, "Device"], None]


@dataclass
class Device:
    """One STB as the edge knows it; times are epoch seconds."""

    device_id: str
    address: str
    port: int
    model: str
    firmware: str
    middleware: str
    first_seen: float
    last_seen: float
    alive: bool = True
    # The mDNS instance name the STB advertises under; None for one only seen through HTTP so far.
    service_name: str | None = None
    # Liveness is judged on the monotonic clock: an edge without a battery-backed clock can jump by years
    # when it first reaches an NTP server, which would otherwise expire (or immortalise) every STB at once.
    last_seen_monotonic: float = field(default=0.0, repr=False)


def edge_txt(node_id: str, village_id: str) -> dict[str, str]:
    txt = {"id": node_id, "vid": village_id, "api": API_VERSION, "path": TV_PATH}
    check_txt(txt)
    return txt


MAX_RESOLVING = 64  # mDNS resolves in flight at once, whatever a LAN host advertises


class DeviceTable:
    """The STBs the edge has seen, one per device id (several may share an address).

    Lives on the event loop: every method is called from it and none blocks. Callers get copies, so the
    table stays the only writer of its devices.
    """

    def __init__(self, *, max_devices: int = 4096, max_per_address: int = 16) -> None:
        # Device ids come from the LAN (TXT records, HTTP headers): the cap bounds what a flood can cost, and the
        # cap per address keeps one host inventing ids from filling the table so real STBs find no room.
        self.max_devices = max_devices
        self.max_per_address = max_per_address
        self.on_change: list[ChangeCallback] = []
        self._devices: dict[str, Device] = {}
        self._by_service: dict[str, str] = {}  # lower-cased mDNS instance name -> device id

    def alive(self) -> list[Device]:
        return [
            dataclasses.replace(d)
            for d in sorted(self._devices.values(), key=lambda d: d.device_id)
            if d.alive
        ]

    def count_alive(self) -> int:
        return sum(1 for d in self._devices.values() if d.alive)

    def get(self, device_id: str) -> Device | None:
        device = self._devices.get(device_id)
        return dataclasses.replace(device) if device is not None else None

    def touch(self, device_id: str, address: str | None = None) -> bool:
        """Note that the STB just spoke to us (an HTTP request carrying its id); False if the id is refused."""
        clean_id = normalize_device_id(device_id)
        if clean_id is None:
            return False
        clean_address = _clean_address(address)
        device = self._devices.get(clean_id)
        if device is None:
            device = self._create(
                clean_id, address=clean_address or "", port=0, model="", firmware="", middleware=""
            )
            return device is not None
        changed = clean_address is not None and clean_address != device.address
        if clean_address is not None:
            device.address = clean_address
        self._mark_seen(device, changed)
        return True

    def observe(self, advert: StbAdvert, *, address: str, port: int, service_name: str) -> Device | None:
        """Record an STB resolved over mDNS; returns a copy of its entry, or None if the table is full."""
        device = self._devices.get(advert.device_id)
        if device is None:
            device = self._create(
                advert.device_id,
                address=address,
                port=port,
                model=advert.model,
                firmware=advert.firmware,
                middleware=advert.middleware,
            )
            if device is not None:
                self._map_service(device, service_name)
            return dataclasses.replace(device) if device is not None else None
        new_values = (address or device.address, port, advert.model, advert.firmware, advert.middleware)
        old_values = (device.address, device.port, device.model, device.firmware, device.middleware)
        changed = new_values != old_values
        device.address, device.port, device.model, device.firmware, device.middleware = new_values
        self._map_service(device, service_name)
        self._mark_seen(device, changed)
        return dataclasses.replace(device)

    def confirm_service(self, service_name: str) -> Device | None:
        """Fresh mDNS records arrived for this instance name: refresh the device if it is alive.

        Returns a copy of the device the name belongs to (alive or not), or None for a name we do not track.
        """
        device = self._device_for_service(service_name)
        if device is None:
            return None
        if device.alive:
            self._mark_seen(device, changed=False)
        return dataclasses.replace(device)

    def forget_service(self, service_name: str) -> Device | None:
        """The STB said goodbye (or its pointer record expired): it drops out at once."""
        device = self._device_for_service(service_name)
        if device is None:
            return None
        del self._by_service[service_name.lower()]
        device.service_name = None
        if device.alive:
            device.alive = False
            self._emit("removed", device)
        return dataclasses.replace(device)

    def expire(self, stale_after_s: float) -> list[Device]:
        """Mark dead every device not confirmed within stale_after_s; returns copies of those just dropped."""
        cutoff = time.monotonic() - stale_after_s
        dropped = []
        for device in self._devices.values():
            if device.alive and device.last_seen_monotonic < cutoff:
                device.alive = False
                self._emit("removed", device)
                dropped.append(dataclasses.replace(device))
        return dropped

    def mdns_services(self) -> list[tuple[str, bool, float]]:
        """(instance name, alive, monotonic last seen) for each device known by an mDNS name."""
        out = []
        for device_id in self._by_service.values():
            device = self._devices[device_id]
            if device.service_name is not None:
                out.append((device.service_name, device.alive, device.last_seen_monotonic))
        return out

    def _create(
        self, device_id: str, *, address: str, port: int, model: str, firmware: str, middleware: str
    ) -> Device | None:
        if address and not self._room_at(address):
            log.warning("address %s already has %d devices; ignoring device %s", address, self.max_per_address,
                        device_id)
            return None
        if len(self._devices) >= self.max_devices and not self._evict_one():
            log.warning("device table full (%d alive); ignoring device %s", self.max_devices, device_id)
            return None
        now = time.time()
        device = Device(
            device_id=device_id,
            address=address,
            port=port,
            model=model,
            firmware=firmware,
            middleware=middleware,
            first_seen=now,
            last_seen=now,
            last_seen_monotonic=time.monotonic(),
        )
        self._devices[device_id] = device
        self._emit("added", device)
        return device

    def _room_at(self, address: str) -> bool:
        """Whether one more device may live at this address (forgetting its longest-dead device if need be)."""
        here = [d for d in self._devices.values() if d.address == address]
        if len(here) < self.max_per_address:
            return True
        dead = [d for d in here if not d.alive]
        if not dead:
            return False
        self._forget(min(dead, key=lambda d: d.last_seen_monotonic))
        return True

    def _forget(self, device: Device) -> None:
        if device.service_name is not None:
            self._by_service.pop(device.service_name.lower(), None)
        del self._devices[device.device_id]

    def _evict_one(self) -> bool:
        # Only the longest-dead entry makes room; a live device is never pushed out by a newcomer.
        dead = [d for d in self._devices.values() if not d.alive]
        if not dead:
            return False
        self._forget(min(dead, key=lambda d: d.last_seen_monotonic))
        return True

    def _mark_seen(self, device: Device, changed: bool) -> None:
        device.last_seen = time.time()
        device.last_seen_monotonic = time.monotonic()
        if not device.alive:
            device.alive = True
            self._emit("added", device)
        elif changed:
            self._emit("updated", device)

    def _map_service(self, device: Device, service_name: str) -> None:
        key = service_name.lower()
        previous_owner = self._by_service.get(key)
        if previous_owner is not None and previous_owner != device.device_id:
            # The name moved to another device id (a reflashed box): the old entry keeps only other signals.
            self._devices[previous_owner].service_name = None
        if device.service_name is not None and device.service_name.lower() != key:
            self._by_service.pop(device.service_name.lower(), None)
        self._by_service[key] = device.device_id
        device.service_name = service_name

    def _device_for_service(self, service_name: str) -> Device | None:
        device_id = self._by_service.get(service_name.lower())
        return self._devices.get(device_id) if device_id is not None else None

    def _emit(self, kind: ChangeKind, device: Device) -> None:
        snapshot = dataclasses.replace(device)
        for callback in list(self.on_change):
            try:
                callback(kind, snapshot)
            except Exception:
                # A failing logger or store must not stop discovery for every other STB.
                log.exception("device table on_change callback failed for %s (%s)", device.device_id, kind)


def _clean_address(address: str | None) -> str | None:
    if not address:
        return None
    return _parsed_address(address)


@functools.lru_cache(maxsize=8192)
def _parsed_address(address: str) -> str | None:
    # Every segment request of every viewer touches its device: parsing the same few hundred LAN addresses again
    # each time cost about 8 % of the live path's CPU. A bounded cache keeps that at a dictionary look-up.
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return None


def _host_label(*parts: str) -> str:
    label = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    return label[:63].rstrip("-") or "villagenet-edge"


class _FreshRecordListener(RecordUpdateListener):
    """Sees every record zeroconf receives, so any fresh SRV or TXT answer from an STB counts as a sign of life."""

    def __init__(self, on_fresh: Callable[[str], None]) -> None:
        super().__init__()
        self._on_fresh = on_fresh

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        for update in records:
            record = update.new
            # A TTL of 0 is a goodbye, which the browser reports as a removal.
            if (
                record.type in (_TYPE_SRV, _TYPE_TXT)
                and record.ttl > 0
                and record.key.endswith(STB_SERVICE_TYPE)
            ):
                self._on_fresh(record.name)


class Discovery:
    """Advertises this edge over mDNS and keeps the device table filled from the STBs' adverts.

    Liveness: an STB that says goodbye is dropped at once. Otherwise every STB silent for recheck_interval_s
    is asked again (a multicast SRV question without known answers, so its responder must answer), and any
    fresh SRV/TXT record from it counts; one not confirmed within stale_after_s is dropped.
    """

    def __init__(
        self,
        table: DeviceTable,
        *,
        interfaces: list[str],
        port: int,
        node_id: str,
        village_id: str,
        instance: str,
        recheck_interval_s: float = 30.0,
        stale_after_s: float = 90.0,
    ) -> None:
        if not interfaces:
            raise ValueError("interfaces must name at least one address (the edge's LAN IP)")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
        if not 0 < recheck_interval_s < stale_after_s:
            raise ValueError("recheck_interval_s must be positive and shorter than stale_after_s")
        if not instance or len(instance.encode()) > 63:
            raise ValueError("instance must be 1 to 63 bytes (a DNS label)")
        self._table = table
        self._interfaces = list(interfaces)
        self._recheck_s = recheck_interval_s
        self._stale_after_s = stale_after_s
        # A silent STB is asked a few times before it is dropped, so one lost packet on Wi-Fi does not drop it.
        self._retry_s = recheck_interval_s / 3
        self._tick_s = min(1.0, self._retry_s)
        server = f"{_host_label(instance, node_id)}.local."
        self._infos = [
            AsyncServiceInfo(
                EDGE_SERVICE_TYPE,
                f"{instance}.{EDGE_SERVICE_TYPE}",
                port=port,
                properties=edge_txt(node_id, village_id),
                server=server,
                parsed_addresses=self._interfaces,
            ),
            AsyncServiceInfo(
                HTTP_SERVICE_TYPE,
                f"{instance}.{HTTP_SERVICE_TYPE}",
                port=port,
                properties=_checked({"path": TV_PATH}),
                server=server,
                parsed_addresses=self._interfaces,
            ),
        ]
        self._aiozc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._listener = _FreshRecordListener(self._on_fresh_record)
        self._liveness_task: asyncio.Task[None] | None = None
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._asked: dict[str, float] = {}  # instance name -> monotonic time we last asked it

    @property
    def advertised_names(self) -> list[str]:
        """Our instance names as registered (zeroconf renames on a clash with another edge)."""
        return [info.name for info in self._infos]

    async def async_start(self) -> None:
        if self._aiozc is not None:
            raise RuntimeError("discovery already started")
        aiozc = AsyncZeroconf(interfaces=self._interfaces)
        self._aiozc = aiozc
        try:
            aiozc.zeroconf.async_add_listener(self._listener, None)
            self._browser = AsyncServiceBrowser(
                aiozc.zeroconf, [STB_SERVICE_TYPE], handlers=[self._on_state_change]
            )
            # Probing takes about a second per name; both names probe at the same time. A clash with another
            # edge renames ours rather than leaving the village without an edge on the LAN.
            await asyncio.gather(
                *(aiozc.async_register_service(info, allow_name_change=True) for info in self._infos)
            )
        except BaseException:
            await self.async_stop()
            raise
        self._liveness_task = asyncio.create_task(self._async_liveness_loop(), name="discovery-liveness")
        log.info("mDNS: advertising %s on %s", ", ".join(self.advertised_names), ", ".join(self._interfaces))

    async def async_stop(self) -> None:
        aiozc, self._aiozc = self._aiozc, None
        if aiozc is None:
            return
        tasks = [t for t in (self._liveness_task, *self._resolving.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._liveness_task = None
        self._resolving.clear()
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        aiozc.zeroconf.async_remove_listener(self._listener)
        # Goodbyes first, so STBs and phones forget this edge now rather than when the records expire.
        await aiozc.async_unregister_all_services()
        await aiozc.async_close()

    def _on_state_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            device = self._table.forget_service(name)
            self._asked.pop(name.lower(), None)
            if device is not None:
                log.info("mDNS: STB %s said goodbye (%s)", device.device_id, name)
            return
        self._spawn_resolve(name)

    def _on_fresh_record(self, name: str) -> None:
        device = self._table.confirm_service(name)
        if device is not None and not device.alive:
            # A dropped STB answered again (it came back, or we had missed its answers): re-read its TXT.
            self._spawn_resolve(name)

    @property
    def resolves_in_flight(self) -> int:
        return len(self._resolving)

    def _spawn_resolve(self, name: str) -> None:
        if self._aiozc is None or name in self._resolving:
            return
        if len(self._resolving) >= MAX_RESOLVING:
            # A flood of advertised names must not start a task each; a real STB's next advert (or the recheck)
            # asks again once the flood's resolves have timed out.
            log.debug("mDNS: %d resolves in flight; %s waits for its next advert", MAX_RESOLVING, name[:120])
            return
        task = asyncio.create_task(self._async_resolve(self._aiozc.zeroconf, name), name=f"resolve {name}")
        self._resolving[name] = task
        task.add_done_callback(lambda _t: self._resolving.pop(name, None))

    async def _async_resolve(self, zc: Zeroconf, name: str) -> None:
        info = AsyncServiceInfo(STB_SERVICE_TYPE, name)
        # QM, not zeroconf's default first QU question: a unicast answer to port 5353 reaches only one of the
        # sockets sharing that port, and two edges (or an edge and a phone app) may share a host.
        if not await info.async_request(zc, _RESOLVE_TIMEOUT_MS, question_type=DNSQuestionType.QM):
            log.info("mDNS: could not resolve %s", name)
            return
        advert = parse_stb_txt(info.properties)
        if advert is None:
            log.warning("mDNS: ignoring %r: its TXT has no acceptable id", name[:120])
            return
        addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses()
        device = self._table.observe(
            advert, address=addresses[0] if addresses else "", port=info.port or 0, service_name=name
        )
        if device is not None:
            log.debug("mDNS: STB %s at %s (%s)", device.device_id, device.address, name)

    async def _async_liveness_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                for device in self._table.expire(self._stale_after_s):
                    log.info(
                        "mDNS: STB %s not seen for %.0f s; dropped", device.device_id, self._stale_after_s
                    )
                self._send_rechecks()
            except Exception:
                # One bad tick must not end liveness checking for the life of the process.
                log.exception("mDNS: liveness check failed")

    def _send_rechecks(self) -> None:
        if self._aiozc is None:
            return
        now = time.monotonic()
        due: list[str] = []
        tracked: set[str] = set()
        for name, alive, seen in self._table.mdns_services():
            key = name.lower()
            tracked.add(key)
            if now - seen < self._recheck_s:
                continue
            # A dropped STB whose pointer is still cached is asked now and then, in case it was only quiet.
            interval = self._retry_s if alive else self._recheck_s
            if now - self._asked.get(key, float("-inf")) < interval:
                continue
            self._asked[key] = now
            due.append(name)
        for key in set(self._asked) - tracked:
            del self._asked[key]
        for chunk in _chunks(due, _NAMES_PER_QUERY):
            self._aiozc.zeroconf.async_send(_srv_query(chunk))


def _srv_query(names: Iterable[str]) -> DNSOutgoing:
    # Deliberately no known answers: with them the STB's responder would stay silent (RFC 6762 7.1), and
    # silence is what we are testing for. QM so every edge on the LAN hears the answer.
    out = DNSOutgoing(_FLAGS_QUERY)
    for name in names:
        out.add_question(DNSQuestion(name, _TYPE_SRV, _CLASS_IN))
    return out


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _checked(txt: dict[str, str]) -> dict[str, str]:
    check_txt(txt)
    return txt
