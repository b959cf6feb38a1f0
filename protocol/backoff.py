"""Exponential backoff with full jitter, so a hundred villages coming back at once do not knock in step."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base_s: float = 1.0, cap_s: float = 30.0) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0

    def next_delay(self) -> float:
        """The wait after one more failure: random in [base/2, min(cap, base·2^n)]."""
        ceiling = min(self.cap_s, self.base_s * (2**self.failures))
        self.failures += 1
        return random.uniform(min(self.base_s / 2, ceiling), ceiling)

    def reset(self) -> None:
        self.failures = 0
