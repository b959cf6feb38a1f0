"""A simulated TV set-top box for the demo and tests: real mDNS adverts and real HTTP calls to an edge.
It is the one stand-in allowed, since no physical STB is on hand; it speaks only the public protocol.

It takes firmware updates as a real one would (docs/updates.md): asks the edge for its model's newest release,
downloads the image from the edge, checks its SHA-256 and size against what the edge vouched for and that the image
is one for its model, then restarts (goodbye, and a new advert with the new `fw`); a bad image is refused, reported
with the reason, and the STB stays on its old version.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import random
import re
import signal
import sys
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

# Spelled out here rather than imported from edge/: the fake must speak the contract, not the edge's code,
# so a drift in either shows up in the tests.
STB_SERVICE_TYPE = "_villagestb._tcp.local."

FEEDBACK_TEXTS = (
    "村口的路灯坏了，晚上出行不方便，请尽快修理。",
    "希望多播放一些农业技术讲座。",
    "通知看得很清楚，谢谢村委会。",
    "老年人健康检查是哪一天？",
    "自来水这几天有点浑浊，请帮忙看看。",
)


# A firmware image starts with this line; the rest is the image. An STB refuses an image for another model, as a
# real one refuses to flash a file whose header is not its own.
IMAGE_MAGIC = b"VNFW1"
MAX_IMAGE_BYTES = 256 * 1024 * 1024


def make_firmware_image(model: str, version: str, size: int = 64 * 1024) -> bytes:
    """A firmware image for `model` (deterministic filler after the header), for the demo and tests."""
    header = IMAGE_MAGIC + f" model={model} version={version}\n".encode()
    filler = hashlib.sha256(header).digest() * (size // 32 + 1)
    return header + filler[: max(0, size - len(header))]


def image_problem(image: bytes, model: str) -> str | None:
    """Why the STB will not flash `image`, or None."""
    first = image.split(b"\n", 1)[0]
    if not first.startswith(IMAGE_MAGIC + b" "):
        return "镜像文件头无效，不是机顶盒固件。The image has no firmware header."
    fields = dict(part.split("=", 1) for part in first.decode(errors="replace").split()[1:] if "=" in part)
    if fields.get("model") != model:
        return f"镜像是 {fields.get('model')} 型号的，本机是 {model}。The image is for model {fields.get('model')}, not {model}."
    return None


@dataclass
class ResidentStats:
    """What one resident loop did, for the demo's summary and for tests."""

    polls: int = 0
    notices_seen: int = 0
    feedback_sent: int = 0
    errors: int = 0


class SimulatedStb:
    """One STB: advertises `_villagestb._tcp` with TXT id/model/fw/mw and can act as a resident."""

    def __init__(
        self,
        device_id: str,
        model: str = "VN-STB-100",
        firmware: str = "1.0.0",
        middleware: str = "ipanel",
        *,
        interfaces: list[str] | None = None,
        port: int = 8080,
        instance: str | None = None,
        address: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.model = model
        self.firmware = firmware
        self.middleware = middleware
        self.interfaces = list(interfaces) if interfaces else ["127.0.0.1"]
        # The address its A record names: each STB has its own on a LAN; many simulated on one loopback interface
        # can each name another 127.0.0.x (the edge admits only so many devices per address).
        self.address = address or self.interfaces[0]
        self.port = port
        self.instance = instance or f"stb-{device_id}"
        self.token: str | None = None  # issued by the edge at the first registration, kept for every later call
        self._aiozc: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None

    @property
    def service_name(self) -> str:
        return self._info.name if self._info is not None else f"{self.instance}.{STB_SERVICE_TYPE}"

    def txt(self) -> dict[str, str]:
        return {"id": self.device_id, "model": self.model, "fw": self.firmware, "mw": self.middleware}

    async def advertise(self) -> None:
        """Join mDNS and announce the STB (probing takes about a second)."""
        if self._aiozc is not None:
            return
        host = re.sub(r"[^a-z0-9]+", "-", f"stb-{self.device_id}".lower()).strip("-")[:63]
        self._info = AsyncServiceInfo(
            STB_SERVICE_TYPE,
            f"{self.instance}.{STB_SERVICE_TYPE}",
            port=self.port,
            properties=self.txt(),
            server=f"{host}.local.",
            parsed_addresses=[self.address],
        )
        self._aiozc = AsyncZeroconf(interfaces=self.interfaces)
        try:
            await self._aiozc.async_register_service(self._info)
        except BaseException:
            await self._close(send_goodbye=False)
            raise

    async def goodbye(self) -> None:
        """Switch off politely: unregister, which multicasts records with TTL 0, then close."""
        await self._close(send_goodbye=True)

    async def vanish(self) -> None:
        """Lose power: close without any goodbye, so the edge only notices by the silence."""
        await self._close(send_goodbye=False)

    async def _close(self, *, send_goodbye: bool) -> None:
        aiozc, info = self._aiozc, self._info
        self._aiozc = None
        if aiozc is None:
            return
        if send_goodbye and info is not None:
            # The returned awaitable finishes once all the goodbye packets are out.
            await (await aiozc.async_unregister_service(info))
        else:
            # AsyncZeroconf.async_close sends goodbyes for whatever is still registered, so a power cut is
            # simulated by emptying the registry first.
            registry = aiozc.zeroconf.registry
            registry.async_remove(registry.async_get_service_infos())
        await aiozc.async_close()

    async def run_resident(
        self,
        edge_url: str,
        stop_event: asyncio.Event,
        feedback_every_s: float = 30.0,
        *,
        poll_every_s: float = 5.0,
        max_feedback: int = 20,
        max_duration_s: float | None = None,
    ) -> ResidentStats:
        """Watch notices and now and then send feedback, as a resident would, until stopped.

        Bounded: at most max_feedback submissions and, if given, max_duration_s seconds. Errors are logged
        and counted, never raised, because the edge may be restarting while the demo runs.
        """
        stats = ResidentStats()
        base = edge_url.rstrip("/")
        deadline = time.monotonic() + max_duration_s if max_duration_s is not None else float("inf")
        # Residents do not all press the button at the same moment.
        next_feedback = time.monotonic() + random.uniform(0.2, 1.0) * feedback_every_s
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout, headers={"X-Device-Id": self.device_id}) as session:
            while not stop_event.is_set() and time.monotonic() < deadline:
                await self._poll_notices(session, base, stats)
                if self.token is None:
                    await self._register(session, base, stats)
                if self.token is not None and stats.feedback_sent < max_feedback and time.monotonic() >= next_feedback:
                    await self._send_feedback(session, base, stats)
                    next_feedback = time.monotonic() + feedback_every_s
                wait = min(poll_every_s, max(0.0, deadline - time.monotonic()))
                try:
                    await asyncio.wait_for(stop_event.wait(), timeout=wait)
                except TimeoutError:
                    pass
        return stats

    async def take_update(self, edge_url: str) -> str:
        """Ask for firmware once and take it: `up_to_date`, `updated` (restarted with the new fw), `refused` (a bad
        image: reported, old version kept) or `error` (the edge could not be asked; try again later)."""
        base = edge_url.rstrip("/")
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, headers={"X-Device-Id": self.device_id}) as session:
            try:
                async with session.get(f"{base}/api/v1/stb/firmware",
                                       params={"model": self.model, "fw": self.firmware}) as resp:
                    if resp.status == 204:
                        return "up_to_date"
                    resp.raise_for_status()
                    offer = await resp.json()
                limit = min(int(offer["size"]), MAX_IMAGE_BYTES) + 1  # one byte more shows an image too long
                image = b""
                async with session.get(base + offer["url"]) as resp:
                    resp.raise_for_status()
                    async for chunk in resp.content.iter_chunked(64 * 1024):
                        image += chunk
                        if len(image) >= limit:
                            break
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                log.warning("STB %s: could not get firmware from %s: %s", self.device_id, base, exc)
                return "error"
            problem = None
            if len(image) != offer["size"] or hashlib.sha256(image).hexdigest() != offer["sha256"]:
                problem = "镜像校验失败。The image does not match the SHA-256 and size the box gave."
            problem = problem or image_problem(image, self.model)
            await self._report(session, base, offer["version"], "refused" if problem else "installed", problem or "")
        if problem:
            log.warning("STB %s: firmware %s refused: %s", self.device_id, offer["version"], problem)
            return "refused"
        await self.restart(offer["version"])
        return "updated"

    async def restart(self, firmware: str) -> None:
        """Reboot into `firmware`: a goodbye, then a new advert whose TXT carries the new fw."""
        await self.goodbye()
        self.firmware = firmware
        await self.advertise()

    async def _report(self, session: aiohttp.ClientSession, base: str, version: str, outcome: str,
                      reason: str) -> None:
        stats = ResidentStats()
        if self.token is None:
            await self._register(session, base, stats)
        body = {"device_id": self.device_id, "model": self.model, "version": version, "outcome": outcome,
                "reason": reason}
        try:
            async with session.post(f"{base}/api/v1/stb/firmware/result", json=body,
                                    headers={"X-Device-Token": self.token or ""}) as resp:
                if resp.status != 204:
                    log.warning("STB %s: firmware report answered %d", self.device_id, resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("STB %s: could not report firmware %s: %s", self.device_id, version, exc)

    async def _poll_notices(self, session: aiohttp.ClientSession, base: str, stats: ResidentStats) -> None:
        stats.polls += 1
        try:
            async with session.get(f"{base}/api/v1/notices") as resp:
                if resp.status != 200:
                    stats.errors += 1
                    log.warning("STB %s: notices answered %d", self.device_id, resp.status)
                    return
                payload = await resp.json()
                stats.notices_seen = len(payload.get("notices", []))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            stats.errors += 1
            log.warning("STB %s: could not fetch notices from %s: %s", self.device_id, base, exc)

    async def _register(self, session: aiohttp.ClientSession, base: str, stats: ResidentStats) -> None:
        """Ask the edge for an identity (`POST /api/v1/devices`), naming the advertised id as the wished-for one.

        The edge may give another id (this one was taken, or seen before); the STB then acts under that id, and
        the token proves it on every call that acts for the device.
        """
        wanted = {"model": self.model, "mw": self.middleware, "device_id": self.device_id}
        try:
            async with session.post(f"{base}/api/v1/devices", json=wanted) as resp:
                if resp.status != 201:
                    stats.errors += 1
                    log.warning("STB %s: registration answered %d: %s", self.device_id, resp.status,
                                (await resp.text())[:200])
                    return
                issued = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            stats.errors += 1
            log.warning("STB %s: could not register with %s: %s", self.device_id, base, exc)
            return
        if issued["device_id"] != self.device_id:
            log.info("STB %s: the edge named it %s", self.device_id, issued["device_id"])
        self.device_id, self.token = issued["device_id"], issued["token"]

    async def _send_feedback(self, session: aiohttp.ClientSession, base: str, stats: ResidentStats) -> None:
        submission_id = str(uuid.uuid4())
        submission = {
            "id": submission_id,
            "kind": "feedback",
            "device_id": self.device_id,
            "body": {"text": random.choice(FEEDBACK_TEXTS), "choice": random.randint(1, 5)},
        }
        try:
            async with session.post(f"{base}/api/v1/submissions", json=submission,
                                    headers={"X-Device-Token": self.token or ""}) as resp:
                if resp.status in (200, 201):
                    stats.feedback_sent += 1
                    return
                stats.errors += 1
                detail = (await resp.text())[:200]
                log.warning(
                    "STB %s: submission %s answered %d: %s",
                    self.device_id,
                    submission_id,
                    resp.status,
                    detail,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats.errors += 1
            log.warning("STB %s: could not send submission %s: %s", self.device_id, submission_id, exc)


async def _take_updates(stb: SimulatedStb, edge_url: str, stop: asyncio.Event, every_s: float) -> None:
    """Ask for firmware now and then, as an STB does after each boot and once a night."""
    while not stop.is_set():
        await stb.take_update(edge_url)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s * random.uniform(0.8, 1.2))
        except TimeoutError:
            pass


async def _run(args: argparse.Namespace) -> None:
    stbs = [
        SimulatedStb(f"{args.prefix}-{i + 1:02d}", args.model, args.fw, interfaces=[args.interface])
        for i in range(args.count)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(*(stb.advertise() for stb in stbs))
        print(f"{len(stbs)} simulated STBs advertising on {args.interface}; Ctrl-C stops them", flush=True)
        if args.edge:
            work: list[Coroutine[Any, Any, object]] = [
                stb.run_resident(args.edge, stop, feedback_every_s=args.feedback_every) for stb in stbs]
            if args.update_every > 0:
                work += [_take_updates(stb, args.edge, stop, args.update_every) for stb in stbs]
            await asyncio.gather(*work)
        await stop.wait()
    finally:
        await asyncio.gather(*(stb.goodbye() for stb in stbs), return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run simulated STBs that advertise over mDNS and use an edge."
    )
    parser.add_argument("--count", type=int, default=5, help="how many STBs (1 to 200)")
    parser.add_argument("--edge", default="", help="edge base URL, e.g. http://127.0.0.1:8601")
    parser.add_argument("--interface", default="127.0.0.1", help="address to advertise on")
    parser.add_argument("--prefix", default="sim-stb", help="device id prefix")
    parser.add_argument(
        "--feedback-every", type=float, default=150.0,
        help="seconds between feedbacks per STB (the edge takes 30 an hour from one device by default)"
    )
    parser.add_argument("--model", default="VN-STB-100", help="the STBs' model (TXT model)")
    parser.add_argument("--fw", default="1.0.0", help="the firmware version they start on (TXT fw)")
    parser.add_argument("--update-every", type=float, default=0.0,
                        help="seconds between asking the edge for firmware (0: never)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 200:
        print("--count must be between 1 and 200", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_run(args))
    except OSError as exc:
        print(f"could not start the simulated STBs: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
