"""Security review, Low: a blob copied off a content pack was renamed into place without its folder being fsynced,
and then marked present and served as immutable. strace on the real edge shows the order now."""

from __future__ import annotations

from pathlib import Path

from tests.durability.syscall_trace import first, needs_strace, syscalls_of
from tests.integration.system import wait_for

from .conftest import Field, needs_loop
from .sticks import attached, holds_device
from .test_usb_packs import city_content_on_a_stick, served_blobs, status


@needs_loop
@needs_strace
def test_a_blob_from_a_content_pack_is_on_disk_with_its_folder_entry_before_it_is_marked_present(
        field: Field, tmp_path: Path):
    content = city_content_on_a_stick(field, tmp_path, blob_mb=1)
    edge = field.new_edge("edge").start()
    assert edge.proc is not None
    with syscalls_of(edge.proc.pid) as lines, attached(content.image) as device:
        wait_for("all the media", lambda: served_blobs(edge.url, content.blobs) == set(content.blobs), timeout_s=30)
        wait_for("the stick serviced", lambda: status(edge.url)["usb"]["last"], timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
    for sha in content.blobs:
        copied = first(lines, "fsync(", f"/partial/{sha}.stick>")
        renamed = first(lines, "rename", f"/partial/{sha}.stick")
        folder_synced = first(lines, "fsync(", f"/content/{sha[:2]}>", after=renamed)
        marked = first(lines, "pwrite64(", "edge.db-wal", after=renamed)
        shown = f"{len(lines)} lines; " + "\n".join([line for line in lines if sha in line] or lines[:5] + lines[-5:])
        assert 0 <= copied < renamed, f"blob {sha} was renamed before its bytes were fsynced:\n{shown}"
        assert renamed < folder_synced < marked, f"blob {sha} was marked present before its rename was on disk"
