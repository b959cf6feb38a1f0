"""The staff-page certificate a village box gets with its enrollment: its CSR checked before anything is written,
then issued by the city CA (hub/city_ca.py) when the hub has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from .city_ca import MAX_CSR_BYTES, issue_for_box, load_issuer
from .errors import BadInput


def box_csr(body: dict[str, Any]) -> x509.CertificateSigningRequest | None:
    """The enrollment's optional `csr` (PEM), parsed and its signature checked; None when the box sent none."""
    text = body.get("csr")
    if text is None:
        return None
    if not isinstance(text, str) or len(text) > MAX_CSR_BYTES:
        raise BadInput(f"csr must be a PEM certificate signing request of at most {MAX_CSR_BYTES} bytes", "bad_csr")
    try:
        csr = x509.load_pem_x509_csr(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise BadInput("csr must be a PEM certificate signing request", "bad_csr") from None
    if not csr.is_signature_valid:
        raise BadInput("the csr's signature does not match its key", "bad_csr")
    if not isinstance(csr.public_key(), ec.EllipticCurvePublicKey):
        raise BadInput("the csr's key must be an EC (P-256) key", "bad_csr")
    return csr


def certificate_for_box(data_dir: Path, csr: x509.CertificateSigningRequest, village_id: str) -> str | None:
    issuer = load_issuer(data_dir)
    return issue_for_box(issuer, csr, village_id).decode("ascii") if issuer is not None else None
