"""Signed release metadata: which software, for which target, from which version on, until when (TUF-style).

A release names its artifact by SHA-256 and size and is signed by a key that holds the release role in the hub's
trust document (never the feed signing key). The edge checks, in this order: form, signature, release role,
expiry, target, downgrade, minimum version; each refusal is a typed error whose sentence ends up in the box's
status, so the technician reads why.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from . import codec
from .envelope import open_sealed, seal
from .errors import DecodeError, Expired, ProtocolError, UnknownKey
from .keys import NodeKey
from .records import is_sha256_hex
from .trust import TrustDocument

PURPOSE = "release"
DEFAULT_LIFETIME_S = 90 * 24 * 3600
MAX_RELEASE_BYTES = 8 * 1024
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
_TARGET = re.compile(r"^(edge|stb:[A-Za-z0-9._-]{1,40})$")


class WrongTarget(ProtocolError):
    code = "wrong_target"


class Downgrade(ProtocolError):
    code = "downgrade"


class TooOld(ProtocolError):
    """The box runs a version below the release's minimum: it must take an intermediate release first."""

    code = "below_minimum_version"


def parse_version(text: str) -> tuple[int, ...]:
    """`1.2.3` as (1, 2, 3); missing parts count as 0, so 1.2 == 1.2.0. Refuses anything else."""
    if not isinstance(text, str) or not _VERSION.match(text):
        raise DecodeError(f"a version is 1 to 4 dotted numbers such as 1.2.3, not {text!r}")
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def check_target(text: str) -> str:
    if not isinstance(text, str) or not _TARGET.match(text):
        raise DecodeError(f"a release target is `edge` or `stb:MODEL`, not {text!r}")
    return text


@dataclass(frozen=True)
class Release:
    version: str
    target: str
    min_version: str
    sha256: str
    size: int
    issued_at: int
    expires_at: int
    notes: str
    signer: bytes

    @property
    def record_id(self) -> str:
        """The id of its `release` record in a down feed: one record per target and version."""
        return f"{self.target.replace(':', '.')}-{self.version}"


def make_release(key: NodeKey, *, version: str, target: str, sha256: str, size: int, min_version: str = "0",
                 lifetime_s: int = DEFAULT_LIFETIME_S, notes: str = "", now: int | None = None) -> bytes:
    parse_version(version)
    parse_version(min_version)
    check_target(target)
    if not is_sha256_hex(sha256) or size < 0:
        raise DecodeError("a release names its artifact by lowercase SHA-256 and a size")
    issued = int(time.time()) if now is None else now
    return seal(key, PURPOSE, {"version": version, "target": target, "min_version": min_version,
                               "sha256": sha256, "size": size, "issued_at": issued,
                               "expires_at": issued + lifetime_s, "notes": notes[:500]})


def open_release(data: bytes, trust: TrustDocument, now: int | None = None) -> Release:
    """Form, signature, release role and expiry; target and version are the box's question (`check_fits`)."""
    if len(data) > MAX_RELEASE_BYTES:
        raise DecodeError(f"release metadata is larger than {MAX_RELEASE_BYTES} bytes")
    opened = open_sealed(data, PURPOSE)
    b, what = opened.body, "release"
    release = Release(
        version=codec.field(b, "version", str, what),
        target=check_target(codec.field(b, "target", str, what)),
        min_version=codec.field(b, "min_version", str, what),
        sha256=codec.field(b, "sha256", str, what),
        size=codec.field(b, "size", int, what),
        issued_at=codec.field(b, "issued_at", int, what),
        expires_at=codec.field(b, "expires_at", int, what),
        notes=codec.field(b, "notes", str, what),
        signer=opened.signer,
    )
    parse_version(release.version)
    parse_version(release.min_version)
    if not is_sha256_hex(release.sha256) or release.size < 0:
        raise DecodeError("release artifact must be named by lowercase SHA-256 and a size")
    at = int(time.time()) if now is None else now
    if not trust.can_sign_releases(release.signer, at):
        raise UnknownKey(f"release {release.version} is not signed by a release key of the hub's trust document")
    if release.expires_at < at:
        raise Expired(f"release {release.version} expired")
    return release


def check_fits(release: Release, target: str, running: str) -> None:
    """Refuse a release for another target, one that is not newer, or one whose minimum version the box lacks."""
    if release.target != target:
        raise WrongTarget(f"release {release.version} is for {release.target}, this is {target}")
    if parse_version(release.version) <= parse_version(running):
        raise Downgrade(f"release {release.version} is not newer than the running {running}")
    if parse_version(running) < parse_version(release.min_version):
        raise TooOld(f"release {release.version} needs at least {release.min_version}; this box runs {running}")
