"""Schemathesis cases against a server running in its own process, and what every answer must show.

For every case: no 5xx (a 502/503 only where the route's table says the upstream may be down), an answer within
ANSWER_WITHIN_S, and a refusal (4xx) of a POST, PUT, PATCH or DELETE leaves the database's rows as they were.
Each case is sent with the real credentials or with the fuzzer's own (mostly wrong) ones, hypothesis choosing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from .database_dump import DatabaseWatch

ANSWER_WITHIN_S = 10.0
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GATEWAY = frozenset({502, 503})
STREAM_PEEK_BYTES = 4096  # an endless event stream: its status and first event are enough


@dataclass
class Target:
    """A running server, its document, its database and the credentials of a legitimate caller."""

    name: str
    base_url: str
    document: dict[str, Any]
    db: DatabaseWatch
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    # Routes fuzzed only with the fuzzer's own credentials: with the real ones they would end them (log out).
    without_credentials: frozenset[tuple[str, str]] = frozenset()
    # The signed routes: headers that sign (method, path and query, body) as the enrolled edge does, and the path
    # parameters (its village) that signature is good for.
    sign: Callable[[str, str, bytes], dict[str, str]] | None = None
    own_path: dict[str, str] = field(default_factory=dict)
    # Body fields the real credentials are only good for (the device a device token belongs to).
    own_body: dict[str, str] = field(default_factory=dict)
    # Tables a route writes on a refusal by design: a failed login is counted and audited.
    refusal_writes: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # how deep the cases got, per route

    def __post_init__(self) -> None:
        self.schema = schemathesis.openapi.from_dict(self.document)

    def operations(self) -> Iterator[tuple[str, str]]:
        for path, methods in self.document["paths"].items():
            for method in methods:
                yield method.upper(), path

    def documented(self, method: str, path: str) -> set[int]:
        return {int(code) for code in self.document["paths"][path][method.lower()]["responses"]}


def _send(target: Target, kwargs: dict[str, Any], streaming: bool, signed: bool) -> tuple[int, bytes, float]:
    prepared = target.http.prepare_request(requests.Request(**kwargs))
    if signed and target.sign is not None:
        sent = prepared.body or b""
        prepared.headers.update(target.sign(prepared.method or "GET", prepared.path_url,
                                            sent.encode() if isinstance(sent, str) else bytes(sent)))  # type: ignore[arg-type]
    started = time.monotonic()
    with target.http.send(prepared, allow_redirects=False, timeout=ANSWER_WITHIN_S + 5, stream=True) as resp:
        body = resp.raw.read1(STREAM_PEEK_BYTES) if streaming else resp.content
        elapsed = time.monotonic() - started
    target.http.cookies.clear()  # each case stands alone: no cookie a previous answer set
    return resp.status_code, body, elapsed


def check_case(target: Target, case: schemathesis.Case, with_credentials: bool) -> None:
    method, path = case.method.upper(), case.path
    credentials = with_credentials and (method, path) not in target.without_credentials
    if credentials:
        for name, value in target.own_path.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
        if isinstance(case.body, dict):
            case.body.update({name: value for name, value in target.own_body.items() if name in case.body})
    kwargs = case.as_transport_kwargs(base_url=target.base_url)
    if credentials:
        kwargs["headers"] = {**kwargs.get("headers", {}), **target.headers}
        kwargs["cookies"] = {**(kwargs.get("cookies") or {}), **target.cookies}
    streaming = "text/event-stream" in str(target.document["paths"][path][method.lower()]["responses"])
    unsafe = method in UNSAFE
    if unsafe:
        target.db.remember()
    status, body, elapsed = _send(target, kwargs, streaming, credentials)
    target.answers[(method, path, status)] += 1
    said = f"{method} {kwargs['url']} answered {status} ({body[:300]!r})\n{case.as_curl_command()}"
    assert status < 500 or (status in GATEWAY and status in target.documented(method, path)), said
    assert elapsed < ANSWER_WITHIN_S, f"{said}\nafter {elapsed:.1f} s"
    if unsafe and 400 <= status < 500:
        changed = target.db.changed_tables(target.refusal_writes.get((method, path), frozenset()))
        assert not changed, f"{said}\nwas refused but changed the tables {changed}"


def fuzz_operation(target: Target, method: str, path: str, examples: int) -> None:
    """`examples` cases of one route, valid and invalid by the document, the same ones on every run."""
    operation = target.schema[path][method]
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(case=cases, with_credentials=st.booleans())
    def run(case: schemathesis.Case, with_credentials: bool) -> None:
        check_case(target, case, with_credentials)

    run()


def fuzz_every_operation(target: Target, examples: int) -> None:
    """Each route in turn; every route that fails is named, not only the first."""
    failures: list[str] = []
    for method, path in target.operations():
        try:
            fuzz_operation(target, method, path, examples)
        except Exception as exc:  # noqa: BLE001 - gathered, then reported together below
            failures.append(f"--- {target.name} {method} {path}:\n{exc}")
    for (method, path, status), count in sorted(target.answers.items()):
        print(f"{target.name} {method} {path}: {status} x{count}")  # shown with -s or -rA
    assert not failures, "\n".join(failures)
