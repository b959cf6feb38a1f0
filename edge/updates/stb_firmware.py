"""Set-top-box firmware at the edge: releases for `stb:MODEL` are checked and their image fetched over the line once
per village, then offered on the LAN to the STBs of that model (as Uptane's primary does for its secondaries).

An STB asks `GET /api/v1/stb/firmware?model=M&fw=V` (edge/updates/routes.py) and gets the newest cached release for
its model that is newer than what it runs, with the image's SHA-256, size and the signed metadata; it fetches the
image from this box's `/content/SHA256`, checks it, restarts with the new `fw` and advertises it over mDNS. The box
counts an STB updated only from that advert (edge/updates/stb_status.py), never from the STB's word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from edge.content.store import BlobRefused
from edge.runtime import EdgeRuntime
from protocol.errors import ProtocolError
from protocol.releases import Release, open_release, parse_version

from .offer_rounds import offer_rounds_ctx
from .offers import cached_for_stbs, decide, undecided

log = logging.getLogger(__name__)


class NotForStbs(ProtocolError):
    code = "wrong_target"


@dataclass(frozen=True)
class StbRelease:
    release: Release
    signed: bytes

    @property
    def model(self) -> str:
        return self.release.target.partition(":")[2]


def _open(signed: bytes, sha256: str, size: int, offer_id: str, rt: EdgeRuntime) -> Release:
    """The checks every box makes of a release (form, signature, release role, expiry), then: for an STB model,
    named by its record, and the record's artifact is the one signed."""
    release = open_release(signed, rt.holder.trust())
    if not release.target.startswith("stb:"):
        raise NotForStbs(f"release {release.version} is for {release.target}, not a set-top box")
    if release.record_id != offer_id or (release.sha256, release.size) != (sha256, size):
        raise ProtocolError(f"record {offer_id} names another release or artifact than {release.record_id} signs")
    return release


async def cache_once(rt: EdgeRuntime) -> None:
    """Check each new STB release and fetch its image into the content store (resumable, verified)."""
    if rt.holder.current is None:
        return
    trust_version = rt.holder.trust().version
    for offer in await undecided(rt.db, trust_version, for_stbs=True):
        try:
            release = _open(offer.signed, offer.sha256, offer.size, offer.id, rt)
        except ProtocolError as exc:
            await decide(rt.db, offer.id, exc.code, exc.detail, trust_version)
            if exc.code == "unknown_key":
                rt.sync.trust_wanted.set()
            log.warning("set-top box release %s refused (%s): %s", offer.id, exc.code, exc.detail)
            continue
        if not rt.content.has(release.sha256):
            client = rt.sync.hub_client()
            if client is None:
                return  # no line yet; tried again on the next round
            try:
                await rt.content.fetch(client.session, rt.holder.current.hub_url, release.sha256, release.size,
                                       rt.sync.budget)
            except (BlobRefused, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("set-top box image %s will be fetched again: %s", offer.id, exc)
                continue
            if not rt.content.has(release.sha256):
                continue  # no room now
        await decide(rt.db, offer.id, "cached", None, trust_version)
        log.info("set-top box release %s cached for the STBs of model %s", offer.id, release.target)


async def offered(rt: EdgeRuntime) -> list[StbRelease]:
    """Cached STB releases still valid under the box's trust document (one expired since is left out)."""
    found = []
    for offer in await cached_for_stbs(rt.db):
        try:
            found.append(StbRelease(_open(offer.signed, offer.sha256, offer.size, offer.id, rt), offer.signed))
        except ProtocolError:
            continue
    return found


def newest_for(releases: list[StbRelease], model: str, running: str | None) -> StbRelease | None:
    """The newest release of the model above `running` (None: the newest) whose minimum version it meets."""
    best: StbRelease | None = None
    for item in releases:
        if item.model != model:
            continue
        version = parse_version(item.release.version)
        if running is not None and (version <= parse_version(running)
                                    or parse_version(running) < parse_version(item.release.min_version)):
            continue
        if best is None or version > parse_version(best.release.version):
            best = item
    return best


stb_firmware_ctx = offer_rounds_ctx("stb-firmware", cache_once)
