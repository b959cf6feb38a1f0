"""The median of many sorted lists taken together, without merging or re-sorting them.

The hours to answer come per village and unit (hub/store_stats_cases.py); the median of a town, a unit or the whole
scope is over several of those groups. Sorting a year of a city's 180,000 answer times again for each place took
most of a second; a binary search on the value, counting with bisect in each sorted group, takes milliseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence


def _kth(groups: Sequence[Sequence[int]], k: int) -> int:
    """The k-th smallest (1-based) of all the groups' values: the least x with at least k values <= x."""
    lo = min(g[0] for g in groups)
    hi = max(g[-1] for g in groups)
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(bisect_right(g, mid) for g in groups) >= k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def median_of_sorted(groups: Sequence[Sequence[int]]) -> float | None:
    """The median of the values of all `groups` (each sorted, integers), None when there are none."""
    groups = [g for g in groups if g]
    n = sum(len(g) for g in groups)
    if n == 0:
        return None
    if n % 2:
        return float(_kth(groups, n // 2 + 1))
    return (_kth(groups, n // 2) + _kth(groups, n // 2 + 1)) / 2
