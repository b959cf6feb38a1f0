"""Property tests of the stick decoders that read a stranger's bytes before anything else does: the filesystem
probe and the FAT cluster-chain check. Whatever the bytes, the answer is a result or a StickError with a sentence,
quickly; and the chain check agrees with a slow, obvious walk of every chain."""

from __future__ import annotations

import io
import struct
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.fat_chains import check_cluster_chains, find_loop
from provisioning.stick import StickError
from provisioning.stick_probe import probe_bytes

END = 0x0FFFFFFF


def obvious_loop(links: list[int], clusters: int) -> bool:
    """Follow every chain step by step, at most `clusters` steps: is any of them endless?"""
    for start in range(2, clusters + 2):
        here, seen = start, set()
        while 2 <= here < clusters + 2 and links[here] & 0x0FFFFFFF not in (0, 1) \
                and links[here] & 0x0FFFFFFF <= 0x0FFFFFF6:
            if here in seen:
                return True
            seen.add(here)
            here = links[here] & 0x0FFFFFFF
    return False


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=2048))
def test_any_first_two_kibibytes_probe_to_a_known_filesystem_or_to_none(head: bytes):
    assert probe_bytes(head) in (None, "vfat", "exfat", "ext4")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=120).flatmap(
    lambda n: st.lists(st.one_of(st.integers(0, n + 1), st.sampled_from([END, 0x0FFFFFF7, 0x0FFFFFF8, 1])),
                       min_size=n + 2, max_size=n + 2)))
def test_the_chain_check_finds_a_loop_exactly_when_an_obvious_walk_finds_one(links: list[int]):
    clusters = len(links) - 2
    why = find_loop(array("I", links), 32, clusters)
    assert (why is not None and "loop" in why) == obvious_loop(links, clusters)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=100).flatmap(
    lambda n: st.lists(st.one_of(st.integers(0, n + 9), st.just(END)), min_size=n + 2, max_size=n + 2)))
def test_the_chain_check_passes_a_fat_only_when_every_chain_ends_inside_the_volume(links: list[int]):
    clusters = len(links) - 2
    outside = any(clusters + 2 <= link <= 0x0FFFFFF6 for link in links[2:])
    why = find_loop(array("I", links), 32, clusters)
    assert (why is None) == (not outside and not obvious_loop(links, clusters))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=512, max_size=512), st.binary(min_size=0, max_size=16384),
       st.sampled_from([512, 1024, 4096]), st.sampled_from([1, 2, 8]), st.integers(1, 8), st.integers(1, 2),
       st.integers(1, 4), st.integers(2000, 300_000))
def test_any_boot_sector_and_fat_are_either_accepted_or_refused_with_a_sentence(
        noise: bytes, fat: bytes, bytes_per_sector: int, per_cluster: int, reserved: int, fats: int,
        fat_sectors: int, total: int):
    boot = bytearray(noise)
    if total % 3:  # two in three are plausible FAT32 boot sectors, the rest pure noise
        struct.pack_into("<HBHBHH", boot, 11, bytes_per_sector, per_cluster, reserved, fats, 0, 0)
        struct.pack_into("<H", boot, 22, 0)
        struct.pack_into("<II", boot, 32, total, fat_sectors)
        struct.pack_into("<I", boot, 44, 2)
        boot[510:512] = b"\x55\xaa"
    image = bytes(boot) + b"\0" * (reserved * bytes_per_sector - 512 if reserved * bytes_per_sector > 512 else 0)
    image = image[: reserved * bytes_per_sector] + fat
    try:
        geometry = check_cluster_chains(io.BytesIO(image))
    except StickError as exc:
        assert exc.code in ("fat_loop", "fat_damaged") and " " in exc.detail
        return
    assert geometry.clusters > 0 and geometry.fat_bytes <= len(fat)
