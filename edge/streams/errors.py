"""The refusals of the streams area: an HTTP status, a machine code, and a sentence (Chinese first) saying what to do."""

from __future__ import annotations

from edge.errors import Refused


class StreamRefused(Refused):
    """Answered by the edge's error middleware (edge/web/errors.py) with its status, code and sentence."""
