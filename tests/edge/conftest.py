"""A real edge app on 127.0.0.1 with a real SQLite file, provisioned by a bundle from a test hub key."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.app import create_app
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from protocol.keys import NodeKey
from protocol.trust import make_trust
from provisioning.bundle import make_bundle
from tests.device_kit import Registered, register_with


def provision(data_dir: Path, village_id: str = "v1", hub_url: str = "http://127.0.0.1:9") -> NodeKey:
    root = NodeKey.generate()
    trust = make_trust(root, "测试平台", [NodeKey.generate().public], version=1)
    apply_bundle(data_dir, make_bundle(root, trust, village_id, "测试村", "t1", hub_url, "token"))
    return root


@pytest.fixture
def edge_dir(tmp_path: Path) -> Path:
    data = tmp_path / "edge"
    provision(data)
    return data


@pytest.fixture
async def edge_client(aiohttp_client, edge_dir: Path):
    # The hub URL points at a closed port: everything here must work with the line down.
    # Tests register many devices from 127.0.0.1, and send many submissions from one; the per-address limit and
    # the submission quotas have their own tests.
    config = load_config(edge_dir, mdns=False, backoff_max_s=1.0, device_registrations_per_hour=1000,
                         submissions_per_device_per_hour=1000)
    return await aiohttp_client(create_app(config))


@pytest.fixture
async def stb(edge_client) -> Registered:
    """The TV "stb-1", registered with the edge as the TV app does on its first start."""
    return await register_with(edge_client, "stb-1")
