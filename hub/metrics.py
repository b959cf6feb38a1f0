"""Prometheus text exposition (format 0.0.4) of the hub: villages, liveness, submissions, feeds, poll failures.

Counts come from the database at scrape time, so they survive restarts; poll counters are this process's.
"""

from __future__ import annotations

import time

from .services import Hub
from .status_poller import is_online

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _metric(lines: list[str], name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        lines.append(f"{name}{labels} {value:g}" if isinstance(value, float) else f"{name}{labels} {value}")


async def render(hub: Hub) -> str:
    store, config = hub.store, hub.config
    now = time.time()
    statuses = await store.status_rows()
    heads = await store.down_heads()
    online = sum(1 for v in heads if is_online(statuses.get(v), config, now))
    lines: list[str] = []
    _metric(lines, "villagenet_hub_villages", "gauge", "Villages registered at the hub.", [("", len(heads))])
    _metric(lines, "villagenet_hub_villages_online", "gauge", "Villages whose edge answered recent status pulls.",
            [("", online)])
    _metric(lines, "villagenet_hub_submissions_received_total", "counter",
            "Submissions received from villages, each counted once.", [("", await store.count_submissions())])
    _metric(lines, "villagenet_hub_down_feed_head", "gauge", "Sequence number of the last entry of a down feed.",
            [(f'{{village="{_label(v)}"}}', seq) for v, seq in heads.items()])
    _metric(lines, "villagenet_hub_status_consecutive_failures", "gauge",
            "Status pulls of a village that failed in a row.",
            [(f'{{village="{_label(v)}"}}', s.consecutive_failures) for v, s in sorted(statuses.items())])
    _metric(lines, "villagenet_hub_status_polls_total", "counter", "Status pulls made by this hub process.",
            [("", hub.poller.polls_total)])
    _metric(lines, "villagenet_hub_status_poll_failures_total", "counter",
            "Status pulls that failed (no answer, bad signature, wrong village) in this hub process.",
            [("", hub.poller.failures_total)])
    return "\n".join(lines) + "\n"
