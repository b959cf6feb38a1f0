"""The volume tier of the route fuzz: a few hundred cheap cases per route, derived from its OpenAPI operation.

Schemathesis (route_fuzzer.py) makes each case from the schema with hypothesis, which costs about 4.5 ms of CPU a
case before it is sent: 25 cases per route in `make test` is what fits. This tier makes its cases with a seeded
`random.Random` from one well-formed request per operation (path, query and body built from the document) and
mutates it the way broken or hostile clients do: a field of the wrong type, a huge or empty or non-ASCII value, a
path parameter with dots, NULs or 5,000 characters, a body truncated, nested 2,000 deep, not JSON at all, random
bytes, the wrong content type, an extra field, a missing one, with and without the caller's real credentials. A
case costs well under a millisecond to make and is sent over one kept-alive connection, so a route's 200 cases
take a fraction of a second.

Every answer must be below 500 (502/503 only where the document lists them, an upstream that is down) and come
within ANSWER_WITHIN_S. The database check of refusals stays with the schemathesis tier: a dump per case would be
most of this tier's cost.
"""

from __future__ import annotations

import copy
import http.client
import json
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .route_fuzzer import ANSWER_WITHIN_S, GATEWAY, STREAM_PEEK_BYTES, Target

NASTY_STRINGS = ("", " ", "0", "-1", "1e309", "null", "true", "[]", "{}", "../../etc/passwd", "%00", "\x00",
                 "村委会🙂", "\u202e", "a" * 5000, "9" * 40, "<script>", "' OR 1=1 --", "\r\nX-Injected: 1")
NASTY_VALUES: tuple[Any, ...] = (None, True, 0, -1, 2**70, -(2**63) - 1, 1.5, "", "村", "x" * 70_000, [], {},
                                 [None], {"": None}, "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z")


def _nasty(rng: random.Random) -> Any:
    """One of NASTY_VALUES, a fresh copy (a shared list put inside itself would not encode)."""
    return copy.deepcopy(rng.choice(NASTY_VALUES))


def _value_for(schema: dict[str, Any], rng: random.Random) -> Any:
    """A plausible value of a JSON schema: what a well-behaved client would send."""
    kind = schema.get("type")
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if kind == "integer":
        return rng.randint(0, 10)
    if kind == "number":
        return rng.random() * 10
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return [_value_for(schema.get("items", {}), rng) for _ in range(rng.randint(0, 2))]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _value_for(sub, rng) for name, sub in props.items()
                if name in schema.get("required", ()) or rng.random() < 0.5}
    return rng.choice(("v1", "测试", "a", "2026-11-02T10:00:00Z", "x" * 8))


class Operation:
    """One route of the document and how to make a well-formed request of it."""

    def __init__(self, target: Target, method: str, path: str) -> None:
        self.target, self.method, self.path = target, method, path
        spec = target.document["paths"][path][method.lower()]
        self.params = spec.get("parameters", [])
        content = (spec.get("requestBody") or {}).get("content", {})
        self.media = next(iter(content), None)
        self.body_schema = content.get(self.media, {}).get("schema", {}) if self.media else {}
        self.documented = {int(code) for code in spec["responses"]}
        self.streaming = "text/event-stream" in str(spec["responses"])

    def well_formed(self, rng: random.Random, credentials: bool) -> dict[str, Any]:
        path_values = {p["name"]: str(_value_for(p.get("schema", {}), rng)) for p in self.params if p["in"] == "path"}
        if credentials:
            path_values.update({k: v for k, v in self.target.own_path.items() if k in path_values})
        query = {p["name"]: _value_for(p.get("schema", {}), rng) for p in self.params
                 if p["in"] == "query" and (p.get("required") or rng.random() < 0.5)}
        body = _value_for(self.body_schema, rng) if self.media else None
        if credentials and isinstance(body, dict):
            body.update({k: v for k, v in self.target.own_body.items() if k in body})
        return {"path": path_values, "query": query, "body": body, "media": self.media, "raw": None}


def _mutate(case: dict[str, Any], rng: random.Random) -> None:
    """One or two of the ways a broken or hostile client gets a request wrong."""
    for _ in range(rng.randint(1, 2)):
        how = rng.randrange(10)
        if how == 0 and case["path"]:
            case["path"][rng.choice(list(case["path"]))] = rng.choice(NASTY_STRINGS)
        elif how == 1:
            case["query"][rng.choice([*case["query"], "limit", "cursor", "x"])] = _nasty(rng)
        elif how in (2, 3) and isinstance(case["body"], dict) and case["body"]:
            case["body"][rng.choice(list(case["body"]))] = _nasty(rng)
        elif how == 4 and isinstance(case["body"], dict) and case["body"]:
            del case["body"][rng.choice(list(case["body"]))]
        elif how == 5:
            case["body"] = _nasty(rng)
            case["media"] = case["media"] or "application/json"
        elif how == 6:
            case["raw"] = json.dumps(case["body"]).encode()[: rng.randint(0, 40)]
        elif how == 7:
            case["raw"] = b"[" * 2000 + b"]" * 2000 if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 70_000))
        elif how == 8:
            case["media"] = rng.choice(("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                        "application/json; charset=latin-1", "application/octet-stream"))
        else:
            if isinstance(case["body"], dict):
                case["body"][rng.choice(("id", "__proto__", "village_id", "device_id", "x"))] = _nasty(rng)


@dataclass
class Sent:
    """A request as it goes on the wire: its path and query, headers and body."""

    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


def _request(op: Operation, case: dict[str, Any], credentials: bool) -> Sent:
    path = "".join(quote(str(case["path"].get(seg[1:-1], seg)), safe="") if seg.startswith("{") else seg
                   for seg in _segments(op.path))
    query = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in case["query"].items()})
    headers: dict[str, str] = {}
    data: bytes | None = case["raw"]
    if data is None and case["body"] is not None:
        if case["media"] == "application/x-www-form-urlencoded" and isinstance(case["body"], dict):
            data = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in case["body"].items()}).encode()
        else:
            data = json.dumps(case["body"], ensure_ascii=False).encode()
    if case["media"]:
        headers["Content-Type"] = case["media"]
    sent = Sent(op.method, path + (f"?{query}" if query else ""), headers, data or b"")
    if credentials:
        headers.update(op.target.headers)
        if op.target.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in op.target.cookies.items())
        if op.target.sign is not None:
            headers.update(op.target.sign(op.method, sent.path_qs, sent.body))
    return sent


class Connection:
    """One kept-alive HTTP/1.1 connection to the server (http.client: requests costs about 3 ms of CPU a case,
    more than the server's answer), opened again whenever the server closed it."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def send(self, sent: Sent, streaming: bool) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=ANSWER_WITHIN_S + 5)
            try:
                self.conn.request(sent.method, sent.path_qs, body=sent.body or None, headers=sent.headers)
                resp = self.conn.getresponse()
                body = resp.read1(STREAM_PEEK_BYTES) if streaming else resp.read()  # a stream: its first bytes
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self.close()
                if attempt == 2:
                    raise
                continue  # a connection the server had closed after its last answer: once more on a new one
            if streaming or resp.will_close:
                self.close()
            return resp.status, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _segments(path: str) -> list[str]:
    """`/a/{b}/c` as ["/a/", "{b}", "/c"]: the path's literal parts and its parameters."""
    out, rest = [], path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out += [head, "{" + name + "}"]
    return [*out, rest]


def fuzz_route_in_volume(target: Target, method: str, path: str, cases: int) -> None:
    """`cases` mutated requests of one route, the same ones on every run (seeded by the route)."""
    op = Operation(target, method, path)
    rng = random.Random(f"{target.name} {method} {path}")
    credentials_ok = (method, path) not in target.without_credentials
    line = Connection(target.base_url)
    try:
        for n in range(cases):
            credentials = credentials_ok and rng.random() < 0.7
            case = op.well_formed(rng, credentials)
            if n % 8:  # one case in eight is sent as made: the route's own path past validation gets exercised too
                _mutate(case, rng)
            sent = _request(op, case, credentials)
            started = time.monotonic()
            try:
                status, body = line.send(sent, op.streaming)
            except OSError as exc:  # http.client's timeout included
                raise AssertionError(f"{method} {target.base_url}{sent.path_qs} ({len(sent.body)} bytes of "
                                     f"{case['media']}) got no answer: {exc!r}") from None
            elapsed = time.monotonic() - started
            said = f"{method} {target.base_url}{sent.path_qs} ({len(sent.body)} bytes of {case['media']}) answered " \
                   f"{status} ({body[:300]!r})"
            assert status < 500 or (status in GATEWAY and status in op.documented), said
            assert elapsed < ANSWER_WITHIN_S, f"{said}\nafter {elapsed:.1f} s"
            target.answers[(method, path, status)] += 1
    finally:
        line.close()
