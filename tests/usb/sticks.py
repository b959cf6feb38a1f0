"""Real stick images for the USB tests: FAT32 made with mkfs.vfat and filled with mtools, ext4 made with
mkfs.ext4 -d, attached as real loop devices (a real kernel uevent), always detached afterwards."""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.process_tree import process_tree

MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def _run(*argv: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=60, env=MTOOLS_ENV)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def make_fat_image(path: Path, files: dict[str, bytes], size_mb: int = 40) -> Path:
    """A FAT32 image holding `files` (paths like "VILLAGENET/provision.vnb"), written with mtools."""
    with open(path, "wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    _run("mkfs.vfat", "-F", "32", "-n", "VNSTICK", str(path))
    put_files(path, files)
    return path


def put_files(image: Path, files: dict[str, bytes]) -> None:
    made: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, data) in enumerate(sorted(files.items())):
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in made:
                    subprocess.run(["mmd", "-i", str(image), f"::{folder}"], capture_output=True, env=MTOOLS_ENV)
                    made.add(folder)
            local = Path(tmp) / f"f{i}"
            local.write_bytes(data)
            _run("mcopy", "-o", "-i", str(image), str(local), f"::{name}")


def read_file(image: Path, name: str) -> bytes:
    return _run("mtype", "-i", str(image), f"::{name}")


def list_dir(image: Path, folder: str) -> list[str]:
    try:
        out = _run("mdir", "-b", "-i", str(image), f"::{folder}")
    except RuntimeError:
        return []
    return [line.rsplit("/", 1)[-1] for line in out.decode().split() if line and not line.endswith("/")]


def make_ext4_image(path: Path, tree: Path, size_mb: int = 16) -> Path:
    with open(path, "wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    _run("mkfs.ext4", "-q", "-F", "-d", str(tree), str(path))
    return path


@contextmanager
def attached(image: Path) -> Iterator[str]:
    """Attach an image as a loop device (the kernel sends the uevent); always detach afterwards."""
    device = _run("losetup", "-f", "--show", str(image)).decode().strip()
    try:
        yield device
    finally:
        detach(device)


def detach(device: str) -> None:
    subprocess.run(["losetup", "-d", device], capture_output=True, timeout=30)


def loop_backing(device: str) -> str | None:
    try:
        return Path(f"/sys/class/block/{Path(device).name}/loop/backing_file").read_text().strip() or None
    except OSError:
        return None


def holds_device(pid: int, device: str) -> bool:
    """Whether process `pid` or one it started (the edge's server under its supervisor, a stick parser) has the
    device open, or it is mounted (the box must let go once the stick is serviced)."""
    for each in process_tree(pid):
        try:
            fds = list(Path(f"/proc/{each}/fd").iterdir())
        except OSError:
            continue  # it ended meanwhile
        for fd in fds:
            try:
                if os.readlink(fd) == device:
                    return True
            except OSError:
                continue
    return device in Path("/proc/mounts").read_text()


# --- crafted FAT contents that mtools refuses to make -----------------------------------------------------------

def _bpb(img: bytes) -> tuple[int, int, int, int, int]:
    bps, spc, reserved, nfats = struct.unpack_from("<HBHB", img, 11)
    fat_sectors = struct.unpack_from("<I", img, 36)[0]
    return bps, spc, reserved, nfats, fat_sectors


def _find_entry(f: object, short_name: bytes, limit: int) -> int:
    import mmap

    assert hasattr(f, "fileno")
    with mmap.mmap(f.fileno(), limit, access=mmap.ACCESS_READ) as m:
        at = m.find(short_name)
    if at < 0:
        raise AssertionError(f"no directory entry {short_name!r}")
    return at


def grow_to_chain(image: Path, short_name: bytes, size: int) -> None:
    """Make a file's directory entry say `size` bytes and give it a real cluster chain that long, without
    writing its data (the image stays sparse): a 2 GB file where a small one should be."""
    with open(image, "r+b") as f:
        head = f.read(512)
        bps, spc, reserved, nfats, fat_sectors = _bpb(head)
        cluster = bps * spc
        fat_at = reserved * bps
        data_at = fat_at + nfats * fat_sectors * bps
        at = _find_entry(f, short_name, data_at + 64 * cluster)
        f.seek(at)
        entry = bytearray(f.read(32))
        first = struct.unpack_from("<H", entry, 20)[0] << 16 | struct.unpack_from("<H", entry, 26)[0]
        need = -(-size // cluster)
        f.seek(fat_at)
        fat = f.read(fat_sectors * bps)
        total = len(fat) // 4
        used = [i for i in range(2, 64) if struct.unpack_from("<I", fat, i * 4)[0] != 0]
        start = max(used) + 1  # the chain continues in clusters nothing uses yet
        chain = [first, *range(start, start + need - 1)]
        assert chain[-1] < total, "image too small for the chain"
        table = bytearray(fat)
        for a, b in zip(chain, chain[1:], strict=False):
            struct.pack_into("<I", table, a * 4, b)
        struct.pack_into("<I", table, chain[-1] * 4, 0x0FFFFFFF)
        for n in range(nfats):
            f.seek(fat_at + n * fat_sectors * bps)
            f.write(table)
        struct.pack_into("<I", entry, 28, size)
        f.seek(at)
        f.write(entry)


def rename_long_name(image: Path, old: str, new: str) -> None:
    """Rewrite a VFAT long name in place (same length), e.g. to '../evil', which no tool would write."""
    assert len(old) == len(new) <= 5
    data = image.read_bytes()
    at = data.find(old.encode("utf-16-le"))
    assert at > 0, f"long name {old!r} not found"
    with open(image, "r+b") as f:
        f.seek(at)
        f.write(new.encode("utf-16-le"))


def copy_out(image: Path, folder: str, dest: Path) -> Path:
    """Copy a folder of the image (recursively) into `dest`, as a hub-side technician's laptop would."""
    dest.mkdir(parents=True, exist_ok=True)
    _run("mcopy", "-s", "-n", "-i", str(image), f"::{folder}", str(dest))
    return dest / folder.rsplit("/", 1)[-1]


def replace_folder(image: Path, folder: str, source: Path) -> None:
    """Make the image's folder hold exactly the files of `source`."""
    for name in list_dir(image, folder):
        _run("mdel", "-i", str(image), f"::{folder}/{name}")
    put_files(image, {f"{folder}/{p.name}": p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()})


def loop_cluster_chain(image: Path, short_name: bytes | None = None) -> int:
    """Make a folder's cluster chain point back to its own first cluster, as a damaged or hostile stick may: the
    root folder's (None) or the folder whose 8.3 directory entry is `short_name`. Returns that cluster."""
    with open(image, "r+b") as f:
        head = f.read(512)
        bps, spc, reserved, nfats, fat_sectors = _bpb(head)
        fat_at = reserved * bps
        if short_name is None:
            first = struct.unpack_from("<I", head, 44)[0]  # FAT32: the root folder's first cluster
        else:
            data_at = fat_at + nfats * fat_sectors * bps
            at = _find_entry(f, short_name, data_at + 64 * bps * spc)
            f.seek(at)
            entry = f.read(32)
            first = struct.unpack_from("<H", entry, 20)[0] << 16 | struct.unpack_from("<H", entry, 26)[0]
        for n in range(nfats):
            f.seek(fat_at + n * fat_sectors * bps + first * 4)
            f.write(struct.pack("<I", first))
    return first
