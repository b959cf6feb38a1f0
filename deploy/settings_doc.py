"""Writes docs/settings.md from the edge's and the hub's settings tables: `python -m deploy.settings_doc [OUT]`.

It lives here, beside the demo, because it needs both programs and neither `protocol/` nor the two of them may
import each other; tests/test_settings.py fails when the committed file and the tables differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge.config import SETTINGS as EDGE_SETTINGS
from hub.config import SETTINGS as HUB_SETTINGS

COMMAND = "python -m deploy.settings_doc"
DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"

INTRO = f"""# Settings

Generated from the tables in `edge/config.py` and `hub/config.py` by `{COMMAND}`; do not edit by hand
(`tests/test_settings.py` fails when this file and the tables differ).

Where the values come from, later ones winning:

1. the defaults below;
2. the TOML file given with `--config FILE` to `village-edge serve` or `village-hub serve`; without `--config`,
   `DATA/config.toml` when it exists (`DATA` being the `--data` folder), and the defaults alone when it does not;
3. flags on the command line (`--listen`, and `--lan` on the edge).

A file with an unknown key (the closest known name is suggested), a value of the wrong type or out of range, or
text that is not TOML stops `serve` before it starts: exit code 2 and one sentence on stderr naming the file and
the key. A number setting takes an integer too (`longpoll_s = 20`); sizes are in bytes and times in seconds unless
the name says otherwise.

Example `config.toml` for a box on a slow line:

```toml
lan = "192.168.1.2"
sync_max_bytes_per_s = 65536
backoff_max_s = 30.0
```
"""


def render() -> str:
    return "\n".join([INTRO, EDGE_SETTINGS.markdown(), HUB_SETTINGS.markdown()])


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DOC
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
