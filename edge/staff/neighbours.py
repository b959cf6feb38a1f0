"""A soft link to the USB watcher's record of its last operation: shown when present, "—" when not.

Looked up at call time, so the dashboard works on a box without the USB part and never fails because of it.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from ..runtime import EdgeRuntime

log = logging.getLogger(__name__)


def last_usb_operation(rt: EdgeRuntime) -> dict[str, Any] | None:
    """The last USB stick operation (edge/usb/activity.py: {at, device, outcome, code, reason, ...}) or None."""
    try:
        module = importlib.import_module("edge.usb.activity")
    except ImportError:
        return None
    fn = getattr(module, "last_operation", None)
    if fn is None:
        return None
    try:
        result = fn(rt.config.data_dir)
    except Exception:  # their part failing must not take the dashboard down
        log.exception("reading the last USB operation failed")
        return None
    return result if isinstance(result, dict) else None

