"""The refusals of the streams area: an HTTP status, a machine code, and a sentence (Chinese first) saying what to do."""

from __future__ import annotations


class StreamRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
