"""The box's certificate for its staff page over HTTPS: the box makes its own key, sends a CSR with its enrollment,
and keeps the certificate the hub's city CA issues (for `<village>.local` and the box's LAN addresses).

Files in DATA/tls/: `box.key` (0600, never leaves the box) and `box.crt` (the certificate, then the issuing CA's).
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from protocol.atomic_file import write_atomically
from protocol.errors import DecodeError

TLS_DIR = "tls"
KEY_FILE, CERT_FILE = "box.key", "box.crt"
RENEW_BEFORE = datetime.timedelta(days=30)


def cert_path(data_dir: Path) -> Path:
    return data_dir / TLS_DIR / CERT_FILE


def key_path(data_dir: Path) -> Path:
    return data_dir / TLS_DIR / KEY_FILE


def _key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = key_path(data_dir)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return key


def box_name(village_id: str) -> str:
    return f"{village_id.lower()}.local"


def make_csr(data_dir: Path, village_id: str, addresses: list[str]) -> str:
    """A CSR for the box's name and LAN addresses, signed by the box's TLS key (made on first use)."""
    ips = [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, box_name(village_id))]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(box_name(village_id)), *ips]), critical=False)
        .sign(_key(data_dir), hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def needs_certificate(data_dir: Path, village_id: str) -> bool:
    """No certificate yet, one for another village (the box moved), or one within 30 days of its end."""
    path = cert_path(data_dir)
    if not path.exists() or not key_path(data_dir).exists():
        return True
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return True
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return box_name(village_id) not in names.get_values_for_type(x509.DNSName) or left < RENEW_BEFORE


def save_certificate(data_dir: Path, chain_pem: str) -> None:
    """Keep the issued chain, once its first certificate is for this box's own key."""
    try:
        leaf = x509.load_pem_x509_certificate(chain_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise DecodeError("the hub's certificate for the staff page is not PEM") from None
    mine = _key(data_dir).public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if mine != theirs:
        raise DecodeError("the hub's certificate for the staff page is for another key than this box's")
    write_atomically(cert_path(data_dir), chain_pem.encode("ascii"), mode=0o644)
