"""The hub's own small city CA: a root, an issuing CA under it, the hub's server certificate, and the certificates
it issues to village boxes for their staff page (from a CSR sent with the enrollment).

Files in DATA/tls/ (keys 0600): `root-ca.crt` (the trust anchor a bundle carries), `root-ca.key` (needed only to
make a new issuing CA: an operator can keep it offline once `issuing-ca.*` exist), `issuing-ca.crt` and
`issuing-ca.key` (online: it signs the hub's and the boxes' certificates), `hub.crt` (the hub's certificate
followed by the issuing CA's) and `hub.key`. An operator may put their own root or issuing CA there before the
first start; only what is missing is made. ECDSA P-256 throughout: fast to make on a small box, and every TLS
stack of the last decade speaks it.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol.atomic_file import write_atomically

from .errors import BadInput

log = logging.getLogger(__name__)

TLS_DIR = "tls"
ROOT_CRT, ROOT_KEY = "root-ca.crt", "root-ca.key"
ISSUING_CRT, ISSUING_KEY = "issuing-ca.crt", "issuing-ca.key"
HUB_CRT, HUB_KEY = "hub.crt", "hub.key"
ROOT_DAYS = 20 * 365
ISSUING_DAYS = 5 * 365
LEAF_DAYS = 397  # what browsers accept for a server certificate
MAX_CSR_BYTES = 8 * 1024
_DAY = datetime.timedelta(days=1)


class NoCityCA(BadInput):
    code = "no_city_ca"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise BadInput(f"{path} is not an EC private key", "bad_tls_key")
    return key


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VillageNet"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key_usage(ca: bool) -> x509.KeyUsage:
    """Signatures (ECDHE handshakes need only those), plus certificates and CRLs for a CA."""
    return x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                         decipher_only=False)


def _ca_cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
             issuer_key: ec.EllipticCurvePrivateKey, days: int, path_len: int) -> x509.Certificate:
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


@dataclass(frozen=True)
class Issuer:
    """The online issuing CA: signs the hub's server certificate and the boxes' staff-page certificates."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    root_pem: bytes

    def issue(self, public_key: ec.EllipticCurvePublicKey, names: list[str], days: int = LEAF_DAYS) -> bytes:
        """A server certificate for `names` (DNS names or IP addresses), as PEM followed by the issuing CA's."""
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_san(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return _cert_pem(cert) + _cert_pem(self.cert)


def ensure_city_ca(data_dir: Path) -> Issuer:
    """The city CA in DATA/tls/, made where missing (root, then issuing CA); an operator's own files are used."""
    folder = data_dir / TLS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    root_crt, root_key = folder / ROOT_CRT, folder / ROOT_KEY
    issuing_crt, issuing_key = folder / ISSUING_CRT, folder / ISSUING_KEY
    if not root_crt.exists():
        if issuing_crt.exists():
            raise NoCityCA(f"{issuing_crt} exists without the root certificate {root_crt} it was issued under")
        key = ec.generate_private_key(ec.SECP256R1())
        write_atomically(root_key, _key_pem(key))
        write_atomically(root_crt, _cert_pem(_ca_cert("VillageNet city root CA", key, None, key, ROOT_DAYS, 1)),
                         mode=0o644)
        log.info("made the city root CA in %s (keep %s offline once the issuing CA exists)", folder, root_key)
    root = x509.load_pem_x509_certificate(root_crt.read_bytes())
    if not issuing_crt.exists():
        if not root_key.exists():
            raise NoCityCA(f"no issuing CA in {folder} and the root key {root_key} is not here to make one: bring "
                           "the root key back from where it is kept offline, start the hub once, then remove it")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _ca_cert("VillageNet city issuing CA", key, root, _load_key(root_key), ISSUING_DAYS, 0)
        write_atomically(issuing_key, _key_pem(key))
        write_atomically(issuing_crt, _cert_pem(cert), mode=0o644)
        log.info("made the city issuing CA in %s", folder)
    return Issuer(x509.load_pem_x509_certificate(issuing_crt.read_bytes()), _load_key(issuing_key),
                  _cert_pem(root))


def load_issuer(data_dir: Path) -> Issuer | None:
    """The issuing CA when the hub has one (TLS was switched on once, or a bundle for an https hub was made)."""
    folder = data_dir / TLS_DIR
    if not (folder / ISSUING_CRT).exists() or not (folder / ROOT_CRT).exists():
        return None
    return ensure_city_ca(data_dir)


def root_ca_pem(data_dir: Path) -> bytes:
    """The trust anchor a bundle for an https hub carries (made with the CA when missing)."""
    return ensure_city_ca(data_dir).root_pem


def _names_of(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(n) for n in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))


def ensure_hub_certificate(data_dir: Path, names: list[str]) -> tuple[Path, Path]:
    """DATA/tls/hub.crt and hub.key for `names`, issued anew when missing, for other names, or within 30 days of
    expiry (a certificate an operator put there for the same names is kept)."""
    issuer = ensure_city_ca(data_dir)
    folder = data_dir / TLS_DIR
    crt, key_path = folder / HUB_CRT, folder / HUB_KEY
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    if crt.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(crt.read_bytes())
        if _names_of(current) == wanted and current.not_valid_after_utc - _now() > 30 * _DAY:
            return crt, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    write_atomically(key_path, _key_pem(key))
    write_atomically(crt, issuer.issue(key.public_key(), names), mode=0o644)
    log.info("issued the hub's server certificate for %s", ", ".join(names))
    return crt, key_path


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def server_context(data_dir: Path, names: list[str]) -> ssl.SSLContext:
    """The hub's TLS server context: its certificate chain (TLS 1.2 and up)."""
    crt, key = ensure_hub_certificate(data_dir, names)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(crt, key)
    return ctx


def issue_for_box(issuer: Issuer, csr: x509.CertificateSigningRequest, village_id: str) -> bytes:
    """A staff-page certificate for a village box, from its checked CSR (hub/box_certificates.py): `<village>.local`
    and the private addresses the box asked for. Nothing else the CSR names is signed: a box must not get a
    certificate for the hub's name or anyone else's."""
    public = csr.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)  # box_csr refused any other key
    names = [f"{village_id.lower()}.local"]
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        addresses = san.get_values_for_type(x509.IPAddress)
    except x509.ExtensionNotFound:
        addresses = []
    names += [str(a) for a in addresses if a.is_private or a.is_loopback][:8]
    return issuer.issue(public, names)
