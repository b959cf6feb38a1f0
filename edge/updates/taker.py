"""The serving process's side of an update: check release offers, download the chosen artifact, hand it over.

Runs in the edge's event loop. An offer is opened against the box's trust document (release role, expiry) and
checked against this box (target `edge`, newer than the running version, minimum version met, not rolled back
before); a refusal is written to the offer and to the update status with its reason. The chosen artifact is fetched
like any blob (resumable, verified by SHA-256) inside the `Download` state's hooks, then the state file moves to
`ArtifactInstall`: from there the supervisor (edge/updates/supervisor.py) carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp

from edge.content.store import BlobRefused
from edge.runtime import EdgeRuntime
from protocol.atomic_file import sha256_of_file
from protocol.errors import ProtocolError
from protocol.releases import Release, check_fits, open_release, parse_version

from .delta_fetch import fetch_artifact
from .hooks import HookFailed, Hooks, RetryLater, box_hooks
from .offer_rounds import offer_rounds_ctx
from .offers import Offer, decide, undecided
from .state import UpdateState, load_state, save_state
from .version import running_version

log = logging.getLogger(__name__)
TARGET = "edge"


class NotYet(Exception):
    """The artifact cannot be fetched now (no line, no room); tried again later."""


class RolledBackBefore(ProtocolError):
    code = "rolled_back_before"


async def take_once(rt: EdgeRuntime, hooks: Hooks) -> None:
    data_dir = rt.config.data_dir
    st = await asyncio.to_thread(load_state, data_dir)
    if st.busy or (st.retry_at is not None and time.time() < st.retry_at) or rt.holder.current is None:
        return
    trust = rt.holder.trust()
    running = running_version()
    best: tuple[Release, Offer] | None = None
    for offer in await undecided(rt.db, trust.version):
        try:
            release = open_release(offer.signed, trust)
            if (release.sha256, release.size) != (offer.sha256, offer.size):
                raise ProtocolError(f"release {release.version}'s record names another artifact than it signs")
            if release.version == running and release.target == TARGET:
                await decide(rt.db, offer.id, "taken", None, trust.version)  # installed; its decision was cut off
                continue
            check_fits(release, TARGET, running)
            if release.version in st.failed_versions:
                raise RolledBackBefore(f"release {release.version} was rolled back on this box before")
        except ProtocolError as exc:
            await _refuse(rt, st, offer, exc, trust.version)
            continue
        if best is None or parse_version(release.version) > parse_version(best[0].version):
            best = (release, offer)
    if best is not None:
        await _download(rt, hooks, st, *best, trust_version=trust.version)


async def _refuse(rt: EdgeRuntime, st: UpdateState, offer: Offer, exc: ProtocolError, trust_version: int) -> None:
    await decide(rt.db, offer.id, exc.code, exc.detail, trust_version)
    if exc.code == "unknown_key":
        rt.sync.trust_wanted.set()  # a new release key may be in the hub's next trust document
    log.warning("release offer %s refused (%s): %s", offer.id, exc.code, exc.detail)
    if offer.id.startswith("stb."):
        return  # a set-top box's release travels the same feed: not this box's update, so not its update state
    st.state, st.last_error = "failed", f"{offer.id} refused: {exc.detail}"
    # Named, so that the hub's rollout counts this box as failed for that release, with the reason (hub/rollouts.py).
    st.target_version = offer.id.removeprefix("edge-")
    await asyncio.to_thread(save_state, rt.config.data_dir, st)


async def _download(rt: EdgeRuntime, hooks: Hooks, st: UpdateState, release: Release, offer: Offer,
                    trust_version: int) -> None:
    data_dir = rt.config.data_dir
    if st.offer_id != offer.id:
        st.attempts = 0
    st.phase, st.state, st.target_version, st.offer_id = "Download", "downloading", release.version, offer.id
    st.retry_at = None
    await asyncio.to_thread(save_state, data_dir, st)
    extra = {"VILLAGENET_TARGET_VERSION": release.version, "VILLAGENET_RUNNING_VERSION": running_version()}
    try:
        await asyncio.to_thread(hooks.run, "Download", "Enter", **extra)
        path = await _fetch(rt, release)
        await asyncio.to_thread(hooks.run, "Download", "Leave", **extra)
    except RetryLater as exc:
        await _later(rt, st, str(exc))
        return
    except (NotYet, BlobRefused, aiohttp.ClientError, TimeoutError, OSError) as exc:
        await _later(rt, st, f"download of {release.version} will resume: {exc}")
        return
    except HookFailed as exc:
        await asyncio.to_thread(hooks.run_quietly, "Download", "Error", **extra)
        await decide(rt.db, offer.id, "failed", str(exc), trust_version)
        st.phase, st.state, st.last_error = "idle", "failed", f"download of {release.version} stopped: {exc}"
        await asyncio.to_thread(save_state, data_dir, st)
        return
    st.phase, st.state, st.artifact, st.sha256 = "ArtifactInstall", "installing", str(path), release.sha256
    st.attempts, st.last_error = 0, None
    await asyncio.to_thread(save_state, data_dir, st)  # the hand-over: the supervisor installs from here
    await decide(rt.db, offer.id, "taken", None, trust_version)
    log.info("release %s downloaded and verified; handed to the supervisor", release.version)


async def _later(rt: EdgeRuntime, st: UpdateState, why: str) -> None:
    st.retry_at, st.last_error = time.time() + rt.config.update_retry_s, why
    st.attempts += 1
    log.warning("update: %s; trying again in %.0f s", why, rt.config.update_retry_s)
    await asyncio.to_thread(save_state, rt.config.data_dir, st)


async def _fetch(rt: EdgeRuntime, release: Release) -> Path:
    path = rt.content.path_for(release.sha256)
    if not path.is_file():
        state, client = rt.holder.current, rt.sync.hub_client()
        if state is None or client is None:
            raise NotYet("no line to the hub yet")
        # In chunks, most of them from the running version, when the hub has the artifact's chunk index.
        await fetch_artifact(rt.content, client.session, state.hub_url, release.sha256, release.size,
                             rt.sync.budget)
        if not path.is_file():
            raise NotYet("no room for the artifact in the content store")
    # A blob in place was verified when it was stored; checked again because software is at stake.
    if await asyncio.to_thread(sha256_of_file, path) != release.sha256:
        raise BlobRefused(f"artifact {release.sha256} on disk does not match its checksum")
    return path


async def _take_round(rt: EdgeRuntime) -> None:
    await take_once(rt, box_hooks(rt.config))


updates_ctx = offer_rounds_ctx("updates", _take_round)
