"""Discovery over real mDNS on loopback: the edge's adverts, its device table and STB liveness.
Every test uses fresh instance names and device ids, since all zeroconf instances here share one network.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from zeroconf import DNSOutgoing, DNSPointer, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from deploy.simulated_stb import SimulatedStb
from edge.lan.discovery import (
    DEVICE_ID_MAX,
    MAX_RESOLVING,
    STB_SERVICE_TYPE,
    TXT_VALUE_MAX,
    Device,
    DeviceTable,
    Discovery,
    check_txt,
    edge_txt,
    parse_stb_txt,
)

LOOPBACK = ["127.0.0.1"]
# Small liveness numbers so a silent STB drops out in seconds; production uses 30 s and 90 s.
RECHECK_S = 1.0
STALE_S = 4.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until predicate holds; returns the seconds it took, fails the test after timeout."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


# --- guards: a daemon on a small box can afford neither a blocked event loop nor a leaked thread ---


@pytest.fixture(autouse=True)
async def loop_must_not_block() -> AsyncIterator[None]:
    worst = 0.0

    async def watch() -> None:
        nonlocal worst
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.05)
            worst = max(worst, time.monotonic() - before - 0.05)

    watcher = asyncio.create_task(watch())
    yield
    watcher.cancel()
    assert worst < 0.5, f"the event loop was blocked for {worst:.2f} s"


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Any:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


# --- fixtures: real edges and simulated STBs on loopback, always closed ---

StartEdge = Callable[..., Awaitable[tuple[Discovery, DeviceTable]]]
MakeStb = Callable[..., SimulatedStb]


@pytest.fixture
async def start_edge() -> AsyncIterator[StartEdge]:
    started: list[Discovery] = []

    async def start(**overrides: Any) -> tuple[Discovery, DeviceTable]:
        table = DeviceTable()
        options: dict[str, Any] = {
            "interfaces": LOOPBACK,
            "port": 8601,
            "node_id": unique("node"),
            "village_id": "lijiacun",
            "instance": unique("edge"),
            "recheck_interval_s": RECHECK_S,
            "stale_after_s": STALE_S,
        }
        options.update(overrides)
        discovery = Discovery(table, **options)
        started.append(discovery)
        await discovery.async_start()
        return discovery, table

    yield start
    for discovery in started:
        await discovery.async_stop()


@pytest.fixture
async def make_stb() -> AsyncIterator[MakeStb]:
    made: list[SimulatedStb] = []

    def make(device_id: str | None = None, **kwargs: Any) -> SimulatedStb:
        stb = SimulatedStb(device_id or unique("stb"), interfaces=LOOPBACK, **kwargs)
        made.append(stb)
        return stb

    yield make
    for stb in made:
        await stb.vanish()  # a no-op for one already gone


@pytest.fixture
async def raw_zeroconf() -> AsyncIterator[AsyncZeroconf]:
    """A bare zeroconf instance for adverts no well-behaved STB would send."""
    aiozc = AsyncZeroconf(interfaces=LOOPBACK)
    try:
        yield aiozc
    finally:
        await aiozc.async_close()


def alive_ids(table: DeviceTable) -> set[str]:
    return {d.device_id for d in table.alive()}


# --- the edge's device table filled over mDNS ---


async def test_stb_advert_is_in_the_device_table_within_ten_seconds_with_its_txt(start_edge, make_stb):
    _, table = await start_edge()
    stb = make_stb(model="HiSTB-V2", firmware="2.3.1", middleware="ipanel-3")
    await stb.advertise()
    await wait_until(lambda: table.get(stb.device_id) is not None, 10, "STB in the table")
    device = table.get(stb.device_id)
    assert device is not None and device.alive
    assert (device.model, device.firmware, device.middleware) == ("HiSTB-V2", "2.3.1", "ipanel-3")
    assert device.address == "127.0.0.1" and device.port == stb.port
    assert device.first_seen <= device.last_seen <= time.time()
    assert table.count_alive() == 1


async def test_edge_advertises_villagenet_and_http_with_the_contract_txt(start_edge):
    instance = unique("edge")
    node_id = unique("node")
    await start_edge(instance=instance, node_id=node_id, village_id="wangcun", port=8611)
    wanted = {t: f"{instance}.{t}" for t in ("_villagenet._tcp.local.", "_http._tcp.local.")}
    seen: set[str] = set()

    def on_change(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            seen.add(name)

    async with AsyncZeroconf(interfaces=LOOPBACK) as client:
        browser = AsyncServiceBrowser(client.zeroconf, list(wanted), handlers=[on_change])
        try:
            await wait_until(lambda: set(wanted.values()) <= seen, 10, "both edge adverts browsed")
            found = {}
            for service_type, name in wanted.items():
                info = AsyncServiceInfo(service_type, name)
                assert await info.async_request(client.zeroconf, 3000)
                assert info.port == 8611 and "127.0.0.1" in info.parsed_addresses()
                found[service_type] = info.decoded_properties
        finally:
            await browser.async_cancel()
    assert found["_villagenet._tcp.local."] == {"id": node_id, "vid": "wangcun", "api": "1", "path": "/tv/"}
    assert found["_http._tcp.local."] == {"path": "/tv/"}


async def test_goodbye_drops_the_stb_at_once(start_edge, make_stb):
    # Long liveness numbers, so only the goodbye itself can explain a quick removal.
    _, table = await start_edge(recheck_interval_s=30.0, stale_after_s=90.0)
    stb = make_stb()
    await stb.advertise()
    await wait_until(lambda: stb.device_id in alive_ids(table), 10, "STB alive")
    await stb.goodbye()
    took = await wait_until(lambda: stb.device_id not in alive_ids(table), 2, "STB dropped after goodbye")
    assert took < 2
    assert table.get(stb.device_id) is not None  # kept, just not alive, so its first_seen survives a return


async def test_vanished_stb_without_goodbye_drops_out_once_it_goes_unconfirmed(start_edge, make_stb):
    _, table = await start_edge()
    stb = make_stb()
    await stb.advertise()
    await wait_until(lambda: stb.device_id in alive_ids(table), 10, "STB alive")
    # Long enough for several re-checks to have been answered, proving live STBs stay in.
    await asyncio.sleep(STALE_S + RECHECK_S)
    assert stb.device_id in alive_ids(table)
    await stb.vanish()
    await asyncio.sleep(0.5)
    # Still there: no goodbye went out, so only the missing answers can remove it.
    assert stb.device_id in alive_ids(table)
    await wait_until(
        lambda: stb.device_id not in alive_ids(table), STALE_S + RECHECK_S + 1, "vanished STB dropped"
    )


async def test_stb_that_comes_back_after_a_goodbye_counts_once(start_edge, make_stb):
    _, table = await start_edge()
    events: list[tuple[str, str]] = []
    table.on_change.append(lambda kind, device: events.append((kind, device.device_id)))
    device_id = unique("stb")
    first = make_stb(device_id)
    await first.advertise()
    await wait_until(lambda: table.count_alive() == 1, 10, "STB alive")
    before = table.get(device_id)
    assert before is not None
    await first.goodbye()
    await wait_until(lambda: table.count_alive() == 0, 2, "STB dropped")
    again = make_stb(device_id, firmware="1.0.1")  # rebooted after an update
    await again.advertise()
    await wait_until(lambda: table.count_alive() == 1, 10, "STB back")
    device = table.get(device_id)
    assert device is not None and device.first_seen == before.first_seen and device.firmware == "1.0.1"
    assert [kind for kind, _ in events] == ["added", "removed", "added"]


async def test_stb_that_comes_back_after_vanishing_counts_once(start_edge, make_stb):
    _, table = await start_edge()
    device_id = unique("stb")
    first = make_stb(device_id)
    await first.advertise()
    await wait_until(lambda: table.count_alive() == 1, 10, "STB alive")
    await first.vanish()
    await wait_until(lambda: table.count_alive() == 0, STALE_S + RECHECK_S + 1, "vanished STB dropped")
    # Same instance name: the edge still holds its pointer record, so no browser event fires; the
    # announcement's fresh records are what bring it back.
    again = make_stb(device_id)
    await again.advertise()
    await wait_until(lambda: table.count_alive() == 1, 10, "STB back")
    assert alive_ids(table) == {device_id}


async def test_two_stbs_sharing_one_address_count_as_two(start_edge, make_stb):
    _, table = await start_edge()
    stbs = [make_stb(), make_stb()]
    await asyncio.gather(*(s.advertise() for s in stbs))
    await wait_until(lambda: table.count_alive() == 2, 10, "both STBs alive")
    assert {d.address for d in table.alive()} == {"127.0.0.1"}


async def test_two_edges_on_one_host_both_see_every_stb(start_edge, make_stb):
    (_, table_a), (_, table_b) = await asyncio.gather(start_edge(port=8601), start_edge(port=8602))
    stbs = [make_stb() for _ in range(3)]
    await asyncio.gather(*(s.advertise() for s in stbs))
    ids = {s.device_id for s in stbs}
    await wait_until(
        lambda: alive_ids(table_a) == ids and alive_ids(table_b) == ids, 10, "both edges see all"
    )
    await stbs[0].goodbye()
    await wait_until(lambda: table_a.count_alive() == table_b.count_alive() == 2, 2, "goodbye seen by both")


async def test_stb_records_without_id_or_with_oversized_values_are_ignored_or_bounded(
    start_edge, make_stb, raw_zeroconf
):
    _, table = await start_edge()
    huge = "型" * 80  # 240 bytes: near the 255-byte limit of one TXT string, far over our cap
    bad_id = "no spaces allowed"
    adverts: dict[str, dict[str, str | bytes]] = {
        "no-id": {"model": "X1", "fw": "1", "mw": "m"},
        "bad-id": {"id": bad_id, "model": "X1"},
        "long-id": {"id": "a" * (DEVICE_ID_MAX + 1), "model": "X1"},
        "huge": {"id": unique("huge"), "model": huge, "fw": "1\x1b[31m\n2", "mw": b"\xff\xfeok"},
    }
    infos = []
    for label, txt in adverts.items():
        instance = unique(label)
        infos.append(
            AsyncServiceInfo(
                "_villagestb._tcp.local.",
                f"{instance}._villagestb._tcp.local.",
                port=8080,
                properties=txt,
                server=f"{instance}.local.",
                parsed_addresses=LOOPBACK,
            )
        )
    await asyncio.gather(*(raw_zeroconf.async_register_service(info) for info in infos))
    # A well-formed STB announced last: once it is in, the others have had their chance.
    control = make_stb()
    await control.advertise()
    await wait_until(lambda: table.get(control.device_id) is not None, 10, "control STB in")
    await asyncio.sleep(0.5)
    huge_id = str(adverts["huge"]["id"])
    assert alive_ids(table) == {control.device_id, huge_id}
    device = table.get(huge_id)
    assert device is not None
    assert device.model == huge[:TXT_VALUE_MAX]
    assert device.firmware == "1[31m2"
    assert device.middleware == "\ufffd\ufffdok"


# --- the table and the TXT rules, without the network ---


def test_touch_counts_an_stb_that_only_speaks_http_and_refuses_bad_ids():
    table = DeviceTable()
    assert table.touch("stb-http-1", "192.168.1.23")
    assert not table.touch("bad id with spaces")
    assert not table.touch("x" * (DEVICE_ID_MAX + 1))
    assert table.count_alive() == 1
    device = table.get("stb-http-1")
    assert device is not None and device.address == "192.168.1.23"


def test_touch_revives_a_dropped_stb_and_expire_drops_a_silent_one():
    table = DeviceTable()
    events: list[tuple[str, Device]] = []
    table.on_change.append(lambda kind, device: events.append((kind, device)))
    table.touch("stb-1")
    assert table.expire(60) == []
    assert [d.device_id for d in table.expire(0)] == ["stb-1"]
    assert table.count_alive() == 0
    table.touch("stb-1", "10.0.0.9")
    assert table.count_alive() == 1
    assert [kind for kind, _ in events] == ["added", "removed", "added"]


def test_a_failing_on_change_callback_does_not_stop_the_table():
    table = DeviceTable()

    def broken(kind: str, device: Device) -> None:
        raise RuntimeError("disk full")

    table.on_change.append(broken)
    assert table.touch("stb-1")
    assert table.count_alive() == 1


def test_a_full_table_makes_room_only_by_forgetting_the_longest_dead():
    table = DeviceTable(max_devices=2)
    table.touch("stb-1")
    table.touch("stb-2")
    assert not table.touch("stb-3")  # both alive: the newcomer waits
    table.expire(0)
    table.touch("stb-2")
    assert table.touch("stb-3")
    assert table.get("stb-1") is None and table.count_alive() == 2


def test_parse_stb_txt_reads_keys_case_insensitively_and_needs_an_id():
    advert = parse_stb_txt({b"ID": b"stb-9", b"Model": b"M", b"fw": None, b"junk": b"x"})
    assert advert is not None
    assert (advert.device_id, advert.model, advert.firmware, advert.middleware) == ("stb-9", "M", "", "")
    assert parse_stb_txt({b"model": b"M"}) is None
    assert parse_stb_txt({b"id": None}) is None


def test_edge_txt_keeps_keys_short_and_the_record_under_200_bytes():
    txt = edge_txt("ABCDEFGH-ABCDEFGH-ABCDEFGH-ABCDEFGH", "lijiacun")
    assert set(txt) == {"id", "vid", "api", "path"}
    with pytest.raises(ValueError, match="key"):
        check_txt({"toolongkey": "x"})
    with pytest.raises(ValueError, match="200"):
        edge_txt("node", "v" * 200)
    with pytest.raises(ValueError):
        Discovery(
            DeviceTable(), interfaces=LOOPBACK, port=8600, node_id="n", village_id="v" * 200, instance="e"
        )


async def test_a_resident_stb_logs_errors_and_stops_in_time_when_the_edge_is_down(unused_tcp_port):
    stb = SimulatedStb(unique("stb"))
    stop = asyncio.Event()
    started = time.monotonic()
    stats = await stb.run_resident(
        f"http://127.0.0.1:{unused_tcp_port}", stop, 0.1, poll_every_s=0.2, max_duration_s=1.0
    )
    assert time.monotonic() - started < 3
    assert stats.polls >= 2 and stats.errors >= stats.polls and stats.feedback_sent == 0


def test_one_address_cannot_fill_the_device_table_with_invented_ids():
    """Security review finding (medium): fake devices fill the 4,096-entry device table."""
    table = DeviceTable(max_devices=100, max_per_address=4)
    for i in range(50):
        table.touch(f"fake-{i}", "169.254.9.9")
    assert sum(1 for d in table.alive() if d.address == "169.254.9.9") == 4
    assert table.touch("stb-real", "169.254.1.20")  # a real STB elsewhere still finds room
    assert table.get("stb-real") is not None
    table.expire(0)  # the flood's devices go quiet: one of them makes room for a new one at that address
    assert table.touch("stb-behind-that-address", "169.254.9.9")


async def test_a_flood_of_advertised_names_starts_a_bounded_number_of_resolves(start_edge: StartEdge,
                                                                             raw_zeroconf: AsyncZeroconf):
    """Security review finding (medium): every advertised mDNS name started an unbounded resolve task."""
    discovery, table = await start_edge()
    flood = DNSOutgoing(0x8400)  # a response, authoritative: what any host on the LAN may send
    for i in range(400):
        flood.add_answer_at_time(
            DNSPointer(STB_SERVICE_TYPE, 12, 1, 120, f"{unique('fake')}-{i}.{STB_SERVICE_TYPE}"), 0
        )
    raw_zeroconf.zeroconf.async_send(flood)
    peak = 0
    for _ in range(30):
        await asyncio.sleep(0.1)
        peak = max(peak, discovery.resolves_in_flight)
    assert 0 < peak <= MAX_RESOLVING
    assert table.count_alive() == 0  # names without records are not devices
