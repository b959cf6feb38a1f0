"""Every route of the edge and of the hub, fuzzed from its OpenAPI document against the running server: no 5xx,
no hang, and a refused request changes nothing in the database (tests/fuzz/route_fuzzer.py says how).

`make test` sends 25 schemathesis cases per route (made from the schema; refusals checked against the database) and
200 cheap mutated ones (tests/fuzz/mutation_fuzzer.py; no 5xx, no hang): about 55 s (hub) and 47 s (edge) on an
idle machine. Schemathesis costs about 4.5 ms of CPU to make a case, so its hundreds are the soak's
(`pytest -m slow tests/fuzz`, up to 300 per route; docs/security.md, "Fuzzing"). Every case is the same on every
run (derandomized, seeded), so a failure here fails again on the next run.
"""

from __future__ import annotations

import time

import pytest

from edge.web import openapi as edge_openapi
from hub import openapi as hub_openapi

from .mutation_fuzzer import fuzz_route_in_volume
from .route_fuzzer import Target, fuzz_every_operation

QUICK = 25
VOLUME = 200  # the cheap mutated cases of tests/fuzz/mutation_fuzzer.py, per route, on top of QUICK
# Routes whose every well-formed case is costly by nature get fewer: a month's report renders a PDF (about 0.2 s of
# a child process each time); its refusals are what the mutations reach, and 50 reach them all.
VOLUME_OF = {("GET", "/api/v1/reports/monthly.pdf"): 50}
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


def _every_route_in_volume(target: Target) -> None:
    failures: list[str] = []
    took: dict[str, float] = {}
    for method, path in target.operations():
        started = time.monotonic()
        try:
            fuzz_route_in_volume(target, method, path, VOLUME_OF.get((method, path), VOLUME))
        except AssertionError as exc:
            failures.append(f"--- {target.name} {method} {path}:\n{exc}")
        took[f"{method} {path}"] = time.monotonic() - started
    for route, seconds in sorted(took.items(), key=lambda kv: -kv[1])[:10]:
        print(f"{target.name} {route}: {seconds:.2f} s")  # shown with -s or -rA
    assert not failures, "\n".join(failures)


@pytest.mark.timeout(600)
def test_every_edge_route_survives_a_few_hundred_mutated_requests(edge_target: Target) -> None:
    _every_route_in_volume(edge_target)


@pytest.mark.timeout(600)
def test_every_hub_route_survives_a_few_hundred_mutated_requests(hub_target: Target) -> None:
    _every_route_in_volume(hub_target)
