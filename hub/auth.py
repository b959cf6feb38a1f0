"""Who may call what: the admin bearer token for staff routes, signed requests for an edge's sync routes.

Tokens and keys are compared in constant time; every refusal is `{error, detail}` with 401 or 403.
"""

from __future__ import annotations

import hmac
import logging
import time

from aiohttp import web

from protocol.errors import ProtocolError
from protocol.http_errors import ApiError
from protocol.request_auth import HEADER, StaleRequest, VerifiedRequest, verify_request

from .edge_revocation import refuse_if_revoked
from .errors import NotFound
from .models import Village
from .request_replay import Replayed, SignedBeforeStart, TooManyRequests
from .services import HUB
from .validate import require_village_id

log = logging.getLogger(__name__)

ADMIN_COOKIE = "vn_admin"


def _unauthorized(detail: str, code: str = "unauthorized") -> ApiError:
    err = ApiError(401, code, detail)
    err.headers["WWW-Authenticate"] = 'Bearer realm="villagenet-hub"'
    return err


def token_ok(request: web.Request, candidate: str | None) -> bool:
    if not candidate:
        return False
    expected = request.app[HUB].admin_token
    return hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def require_admin(request: web.Request) -> None:
    """Staff API routes take the bearer token only (no cookie), so a cross-site form cannot act as staff."""
    if not token_ok(request, bearer_token(request)):
        raise _unauthorized("this route needs `Authorization: Bearer <token>` with the token from admin.token")


async def authenticate_edge(request: web.Request, village_id: str, body: bytes) -> Village:
    """The village of a signed sync request, if the signer is the key enrolled for it."""
    hub = request.app[HUB]
    require_village_id(village_id)
    village = await hub.store.get_village(village_id)
    if village is None:
        raise NotFound(f"no village {village_id} is registered at this hub", "unknown_village")
    header = request.headers.get(HEADER)
    if not header:
        raise _unauthorized(f"sync requests must carry a {HEADER} header", "unsigned")
    signed: VerifiedRequest | None = None
    refusal: ProtocolError | None = None
    # The edge signs the path and query it sent; accept the decoded form too, in case a proxy normalised it.
    for path_qs in dict.fromkeys((request.raw_path, request.path_qs)):
        try:
            signed = verify_request(header, request.method, path_qs, body)
            break
        except ProtocolError as exc:
            refusal = exc if refusal is None or isinstance(exc, StaleRequest) else refusal
    if signed is None:
        assert refusal is not None
        log.warning("refused sync request for village %s: %s", village_id, refusal.detail)
        if isinstance(refusal, StaleRequest):
            raise _stale(refusal.detail)
        raise _unauthorized(f"the request signature is not valid: {refusal.detail}", "bad_signature")
    if village.edge_key is None or not hmac.compare_digest(signed.signer, village.edge_key):
        log.warning("refused sync request for village %s: key is not the enrolled one", village_id)
        raise ApiError(403, "unknown_key", f"the signing key is not enrolled for village {village_id}")
    # Every route an edge signs (sync, recordings) refuses a revoked key, not only the sync routes.
    await refuse_if_revoked(hub.store, village_id, signed.signer)
    # Once only, and only after the signature and the key are good: strangers cannot fill the memory of requests.
    try:
        hub.seen_requests.take(signed.signer, signed.once, signed.signed_at)
    except SignedBeforeStart as exc:
        raise _stale(exc.args[0]) from None
    except Replayed as exc:
        log.warning("refused a replayed sync request for village %s", village_id)
        raise _unauthorized(exc.args[0], exc.code) from None
    except TooManyRequests as exc:
        err = ApiError(429, exc.code, exc.args[0])
        err.headers["Retry-After"] = "10"
        raise err from None
    await hub.mark_synced(village_id)
    return village


def _stale(detail: str) -> ApiError:
    """401 with the hub's clock, so an edge whose clock is off re-signs at once with the hub's time (an unsigned
    hint: a liar on the line can only shift when a request is signed, and each signed request is still taken once)."""
    err = ApiError(401, StaleRequest.code, detail, hub_time=int(time.time()))
    err.headers["WWW-Authenticate"] = 'Bearer realm="villagenet-hub"'
    return err
