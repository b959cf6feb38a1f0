"""`village-hub rollout` at the console, as real processes: a held release is rolled out only once another city
administrator approves it; abort ends it; a bad plan or the author's own approval exits 2 with one line saying why
and changes nothing. (The hub's data folder is set up in-process: those commands are tested elsewhere.)"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from deploy.local_processes import BIN, run_command
from hub.actors import CLI
from hub.down_feed import DownFeed
from hub.keys_store import init_hub
from hub.officials import put_account
from hub.registry import add_village
from hub.store import HubStore

from .rollout_kit import keep_release

PASSWORD = "correct-horse-42"


def _hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "village-hub"), "rollout", *args], capture_output=True, text=True, timeout=60)


def _city(data: Path) -> None:
    """A hub with village v1 and two city administrators, zhang and li."""
    init_hub(data, "测试市级平台")

    async def fill() -> None:
        store = HubStore(data / "hub.db")
        await store.open()
        try:
            await add_village(store, DownFeed(store), "v1", "一村", "t1", None)
            for user in ("zhang", "li"):
                await put_account(store, CLI, user, "admin", "city", user, PASSWORD)
        finally:
            await store.close()

    asyncio.run(fill())


def test_a_rollout_at_the_console_waits_for_another_admin_and_a_bad_plan_or_own_approval_is_refused(
        tmp_path: Path) -> None:
    data = tmp_path / "hub"
    _city(data)
    release = keep_release(data, "3.1", target="stb:HG680")

    bad = _hub("start", "--data", str(data), "--release", release, "--waves", "v1,50%", "--by", "zhang")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "100%" in bad.stderr, bad.stderr
    made = run_command("village-hub", "rollout", "create", "--data", str(data), "--release", release,  # = start
                       "--waves", "v1,100%", "--by", "zhang")
    rollout_id = made.stdout.split("rollout ")[1].split()[0]
    own = _hub("approve", "--data", str(data), "--id", rollout_id, "--by", "zhang")
    assert own.returncode == 2 and "作者以外" in own.stderr, own.stderr

    run_command("village-hub", "rollout", "approve", "--data", str(data), "--id", rollout_id, "--by", "li")
    shown: list[dict[str, Any]] = json.loads(
        run_command("village-hub", "rollout", "show", "--data", str(data), "--id", rollout_id).stdout)
    assert (shown[0]["state"], shown[0]["author"], shown[0]["approver"]) == ("running", "zhang", "li")
    assert [w["sent"] for w in shown[0]["waves"]] == [1, 0]  # the canary has it; the rest (none yet) waits
    run_command("village-hub", "rollout", "abort", "--data", str(data), "--id", rollout_id)
    again = _hub("resume", "--data", str(data), "--id", rollout_id)
    assert again.returncode == 2 and "aborted" in again.stderr, again.stderr
