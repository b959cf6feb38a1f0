"""`make bench`: run every benchmark, print one table, write bench/results/latest.json.

Each benchmark compares against a baseline measured in the same run and reports the ratio.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from . import (
    edge_submissions,
    stats_year,
    streams_viewers,
    sync_outage,
    tv_alerts,
    update_delta,
    usb_stick_read,
)

BENCHMARKS = [edge_submissions, usb_stick_read, streams_viewers, tv_alerts, sync_outage, update_delta, stats_year]


def main() -> int:
    only = set(sys.argv[1:])
    rows: list[dict] = []
    for module in BENCHMARKS:
        name = module.__name__.rsplit(".", 1)[-1]
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            started = time.monotonic()
            for row in module.run(Path(tmp)):
                row["bench"] = name
                row["at"] = time.time()
                rows.append(row)
                print(f"{name:22} {row['metric']:58} {row['value']:>14,.2f} {row.get('unit', ''):10}"
                      f" baseline {row.get('baseline', float('nan')):>14,.2f}  ratio {row.get('ratio', float('nan')):6.2f}")
            print(f"{name} took {time.monotonic() - started:.1f} s")
    out = Path(__file__).parent / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    if only and out.exists():
        # `python -m bench NAME` reruns one benchmark: the other benchmarks' last rows stay, each with its time.
        ran = {row["bench"] for row in rows}
        rows = [row for row in json.loads(out.read_text())["rows"] if row["bench"] not in ran] + rows
    out.write_text(json.dumps({"machine": platform.platform(), "at": time.time(), "rows": rows}, indent=1,
                              ensure_ascii=False))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
