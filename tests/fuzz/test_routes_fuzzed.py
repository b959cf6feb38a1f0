"""Every route of the edge and of the hub, fuzzed from its OpenAPI document against the running server: no 5xx,
no hang, and a refused request changes nothing in the database (tests/fuzz/route_fuzzer.py says how).

`make test` sends 25 cases per route: about 18 s (hub) and 15 s (edge) on an idle machine, 44 s of CPU in all. A
case costs about 4.5 ms of CPU to make and as much again to send and answer, so 200 per route would be 5 to 6
CPU-minutes (docs/security.md, "Fuzzing"); the soak (`pytest -m slow tests/fuzz`, about 11 minutes for both
servers on two loaded cores) sends up to 300. The cases are the same on every run (derandomized), so a failure here
fails again on the next run.
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
