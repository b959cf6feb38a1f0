"""Moving the hub's root key off the hub (`village-hub root export-offline`): to a file or a stick the operator keeps.

The root key only signs trust documents and provisioning bundles; the signing key signs everything the hub sends
every day. Kept beside each other, one break-in takes both, and a leaked signing key could not be revoked with
any authority left. After the export the data dir keeps `root.pub`; the hub serves, signs feeds, rotates nothing
by itself; `key rotate|retire|revoke-signing` and `village-provision make` ask for the file (`--root PATH`).
"""

from __future__ import annotations

import os
from pathlib import Path

from protocol.keys import NodeKey, fingerprint

from .errors import BadInput
from .keys_store import ROOT_KEY, OfflineRoot, load_hub_keys, write_root_public

OFFLINE_NAME = "villagenet-root.key"


def export_root_offline(data_dir: Path, to: Path) -> Path:
    """Write the root key to `to` (a file, or a folder such as a mounted stick), check the copy, then remove it from
    the data dir. Refuses to overwrite anything; returns where it went."""
    keys = load_hub_keys(data_dir)
    if isinstance(keys.root, OfflineRoot):
        raise BadInput(f"the root key of {data_dir} is already offline ({fingerprint(keys.root.public)})",
                       "root_already_offline")
    dest = to / OFFLINE_NAME if to.is_dir() else to
    if dest.exists():
        raise BadInput(f"{dest} exists; give a new file or an empty folder (nothing was changed)", "exists")
    if dest.resolve().parent == (data_dir / ROOT_KEY).resolve().parent:
        raise BadInput("the offline copy must leave the hub's data folder", "same_folder")
    keys.root.save(dest)  # 0600, written whole and fsynced (protocol/atomic_file.py)
    if NodeKey.load(dest).public != keys.root.public:  # read back before the only other copy goes
        dest.unlink()
        raise BadInput(f"the copy at {dest} does not read back as the root key; nothing was removed", "bad_copy")
    write_root_public(data_dir, keys.root.public)
    (data_dir / ROOT_KEY).unlink()
    folder = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(folder)  # the removal itself is durable before we say it is done
    finally:
        os.close(folder)
    return dest
