"""Every route of the edge and of the hub, fuzzed from its OpenAPI document against the running server: no 5xx,
no hang, and a refused request changes nothing in the database (tests/fuzz/route_fuzzer.py says how).

`make test` sends a few dozen cases per route so that the run stays within about a minute on two cores
(schemathesis spends tens of milliseconds making each case); the soak (`pytest -m slow tests/fuzz`) sends a few
hundred. The cases are the same on every run (derandomized), so a failure here fails again on the next run.
"""

from __future__ import annotations

import pytest

from edge.web import openapi as edge_openapi
from hub import openapi as hub_openapi

from .route_fuzzer import Target, fuzz_every_operation

QUICK = 25
SOAK = 300


@pytest.mark.timeout(600)  # about a minute alone; a loaded machine (the parallel suite) stretches it
def test_every_edge_route_survives_fuzzed_requests(edge_target: Target) -> None:
    assert edge_target.document == edge_openapi.build(), "the running edge serves another document than its table"
    fuzz_every_operation(edge_target, QUICK)


@pytest.mark.timeout(600)
def test_every_hub_route_survives_fuzzed_requests(hub_target: Target) -> None:
    assert hub_target.document == hub_openapi.build(), "the running hub serves another document than its table"
    fuzz_every_operation(hub_target, QUICK)


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_every_edge_route_survives_a_soak_of_fuzzed_requests(edge_target: Target) -> None:
    fuzz_every_operation(edge_target, SOAK)


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_every_hub_route_survives_a_soak_of_fuzzed_requests(hub_target: Target) -> None:
    fuzz_every_operation(hub_target, SOAK)
