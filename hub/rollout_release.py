"""The release a rollout sends: one of the hub's signed releases (`DATA/releases/ID.vnr`, written by `release
add`), checked as a box would check it, and the down-feed record that carries it to a village.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from protocol import records
from protocol.errors import ProtocolError
from protocol.releases import Release, open_release
from protocol.trust import TrustDocument

from .errors import NotFound, Unprocessable

_RELEASE_ID = re.compile(r"^(edge|stb\.[A-Za-z0-9_-]{1,32})-[0-9][0-9.]{0,30}$")
_VERSION_ONLY = re.compile(r"^[0-9][0-9.]{0,30}$")


def release_op(release: Release, signed: bytes) -> dict[str, Any]:
    """The `release` record: the signed metadata, and the artifact as its one blob."""
    return records.put("release", release.record_id,
                       {"signed": signed, "version": release.version, "target": release.target},
                       [{"sha256": release.sha256, "size": release.size, "mime": "application/octet-stream"}])


def release_id_of(value: object) -> str:
    """`edge-1.2.0`, `stb.HG680-3.1`, or a bare version for the edge's own release."""
    if isinstance(value, str) and _VERSION_ONLY.match(value):
        return f"edge-{value}"
    if not isinstance(value, str) or not _RELEASE_ID.match(value):
        raise Unprocessable("release must be a version (1.2.0) or a release id (edge-1.2.0, stb.MODEL-1.0)",
                            "bad_release")
    return value


def load_release(data_dir: Path, release_id: str, trust: TrustDocument) -> tuple[Release, bytes]:
    path = data_dir / "releases" / f"{release_id}.vnr"
    try:
        signed = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"没有升级包 {release_id}，请先用 village-hub release add 添加。No release {release_id}:"
                       " add it with `village-hub release add` first.", "unknown_release") from None
    try:
        release = open_release(signed, trust)
    except ProtocolError as exc:
        raise Unprocessable(f"release {release_id} cannot go out: {exc.detail}", exc.code) from None
    return release, signed
