"""Refuses a FAT volume whose cluster chains loop, before any FAT library walks a directory of it.

A chain is a linked list in the FAT; one whose last link points back into itself never ends, and pyfatfs follows
such a directory chain forever, allocating as it goes (0.9 GiB in 10 s). Every allocated cluster is checked here
once: a chain that revisits a cluster, or a link that points outside the volume, refuses the stick.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import BinaryIO

from .stick import StickError

# Links at or above these are end-of-chain or bad-cluster marks, not links (FAT12, FAT16, FAT32).
_LAST_LINK = {12: 0xFF6, 16: 0xFFF6, 32: 0x0FFFFFF6}
MAX_FAT_BYTES = 64 * 1024 * 1024  # FAT32 on a 2 TiB volume with 32 KiB clusters; more is not a stick


@dataclass(frozen=True)
class FatGeometry:
    bits: int
    clusters: int  # data clusters, numbered 2 .. clusters + 1
    fat_offset: int
    fat_bytes: int
    root_cluster: int  # FAT32 only; 0 for FAT12/16, whose root is a fixed area without a chain


def _damaged(why: str) -> StickError:
    return StickError("fat_damaged", f"the stick's FAT filesystem is damaged ({why}); check it on a computer"
                      " (chkdsk or fsck.fat), or format it as FAT32 and copy the files again")


def read_geometry(boot: bytes) -> FatGeometry:
    """The FAT's place and size from the boot sector, with the checks the FAT specification asks for."""
    if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
        raise _damaged("no boot sector")
    bytes_per_sector, per_cluster, reserved, fats, root_entries, total16 = struct.unpack_from("<HBHBHH", boot, 11)
    fat16_sectors, = struct.unpack_from("<H", boot, 22)
    total32, fat32_sectors, = struct.unpack_from("<I", boot, 32) + struct.unpack_from("<I", boot, 36)
    if bytes_per_sector not in (512, 1024, 2048, 4096) or per_cluster not in (1, 2, 4, 8, 16, 32, 64, 128):
        raise _damaged("impossible sector or cluster size")
    if reserved == 0 or fats == 0:
        raise _damaged("no reserved sectors or no FAT")
    fat_sectors = fat16_sectors or fat32_sectors
    total = total16 or total32
    root_sectors = (root_entries * 32 + bytes_per_sector - 1) // bytes_per_sector
    data_sectors = total - reserved - fats * fat_sectors - root_sectors
    if fat_sectors == 0 or data_sectors <= 0:
        raise _damaged("the FAT or the data area has no room")
    clusters = data_sectors // per_cluster
    bits = 12 if clusters < 4085 else 16 if clusters < 65525 else 32  # the specification's own rule
    fat_bytes = fat_sectors * bytes_per_sector
    if fat_bytes > MAX_FAT_BYTES:
        raise _damaged(f"a FAT of {fat_bytes} bytes")
    if fat_bytes * 8 < (clusters + 2) * bits:
        raise _damaged("the FAT is too small for the volume")
    root_cluster = struct.unpack_from("<I", boot, 44)[0] if bits == 32 else 0
    if bits == 32 and not 2 <= root_cluster < clusters + 2:
        raise _damaged("the root folder starts outside the volume")
    return FatGeometry(bits, clusters, reserved * bytes_per_sector, fat_bytes, root_cluster)


def _links(fat: bytes, geo: FatGeometry) -> array[int] | list[int]:
    n = geo.clusters + 2
    if geo.bits == 32:
        table = array("I")
        table.frombytes(fat[: n * 4])
        if table.itemsize != 4:
            raise AssertionError("array('I') is not 32 bits here")
        return table
    if geo.bits == 16:
        table16 = array("H")
        table16.frombytes(fat[: n * 2])
        return table16
    out = []
    for i in range(n):  # FAT12: two 12-bit links in every three bytes
        pair = int.from_bytes(fat[i * 3 // 2 : i * 3 // 2 + 2], "little")
        out.append(pair >> 4 if i % 2 else pair & 0xFFF)
    return out


def find_loop(links: array[int] | list[int], bits: int, clusters: int) -> str | None:
    """Why the chains are unsafe to follow, or None. Each cluster is visited once (linear in the volume), so a
    chain longer than the volume's cluster count cannot go unnoticed either: it must revisit a cluster."""
    last = _LAST_LINK[bits]
    mask = 0x0FFFFFFF if bits == 32 else 0xFFFFFFFF
    end = clusters + 2
    state = bytearray(end)  # 0 not seen, 1 on the chain being followed, 2 known to end
    for start in range(2, end):
        if state[start]:
            continue
        chain = []
        here = start
        while state[here] != 2:
            if state[here] == 1:
                return f"the cluster chain through cluster {here} comes back to it (a loop)"
            state[here] = 1
            chain.append(here)
            nxt = links[here] & mask
            if nxt < 2 or nxt > last:
                break  # free, reserved, bad cluster or end of chain: this chain ends here
            if nxt >= end:
                return f"cluster {here} links to cluster {nxt}, outside the volume's {clusters} clusters"
            here = nxt
        for c in chain:
            state[c] = 2
    return None


def check_cluster_chains(f: BinaryIO) -> FatGeometry:
    """Refuse the volume (StickError `fat_loop` or `fat_damaged`) unless every cluster chain ends."""
    f.seek(0)
    geo = read_geometry(f.read(512))
    f.seek(geo.fat_offset)
    fat = f.read(geo.fat_bytes)
    if len(fat) < geo.fat_bytes:
        raise _damaged("the FAT runs past the end of the stick")
    why = find_loop(_links(fat, geo), geo.bits, geo.clusters)
    if why is not None:
        raise StickError("fat_loop", f"the stick's FAT filesystem is damaged: {why}, so its folders never end;"
                         " the box will not read it. Check it on a computer (chkdsk or fsck.fat), or format it"
                         " as FAT32 and copy the files again")
    return geo
