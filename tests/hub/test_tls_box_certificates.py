"""What the city CA signs for a box at enrollment: its village's `.local` name and private addresses, nothing else;
a bad CSR refuses the enrollment whole; a hub without a CA enrolls as before and answers no certificate."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from hub.city_ca import ensure_city_ca
from protocol.keys import NodeKey

from .kit import HubKit, enroll_body


def csr_for(names: list[str], key: Any = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
           .add_extension(x509.SubjectAlternativeName(sans), critical=False)
           .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def names_in(chain_pem: str) -> list[str]:
    cert = x509.load_pem_x509_certificate(chain_pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [*san.get_values_for_type(x509.DNSName), *(str(a) for a in san.get_values_for_type(x509.IPAddress))]


async def test_the_box_gets_its_village_name_and_private_addresses_and_nothing_else(kit: HubKit) -> None:
    await asyncio.to_thread(ensure_city_ca, kit.data_dir)
    await kit.add_village("v1")
    csr = csr_for(["hub.city.example", "v2.local", "192.168.8.20", "8.8.8.8", "127.0.0.1"])
    body = {**enroll_body("v1", await kit.token_for("v1"), NodeKey.generate()), "csr": csr}
    resp = await kit.client.post("/api/v1/enroll", json=body)
    assert resp.status == 200, await resp.text()
    assert names_in((await resp.json())["certificate"]) == ["v1.local", "192.168.8.20", "127.0.0.1"]


async def test_a_bad_csr_refuses_the_enrollment_and_enrolls_nothing(kit: HubKit) -> None:
    await asyncio.to_thread(ensure_city_ca, kit.data_dir)
    await kit.add_village("v1")
    token = await kit.token_for("v1")
    for csr, why in (("not a csr", "PEM"), (csr_for(["v1.local"], ed25519.Ed25519PrivateKey.generate()), "EC"),
                     (123, "PEM")):
        resp = await kit.client.post("/api/v1/enroll", json={**enroll_body("v1", token, NodeKey.generate()),
                                                             "csr": csr})
        answer = await resp.json()
        assert resp.status == 400 and answer["error"] == "bad_csr" and why in answer["detail"], answer
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key is None
    assert [b.used_by for b in await kit.hub.store.list_bundles("v1")] == [None]


async def test_a_hub_without_a_city_ca_enrolls_the_box_and_answers_no_certificate(kit: HubKit) -> None:
    await kit.add_village("v1")
    body = {**enroll_body("v1", await kit.token_for("v1"), NodeKey.generate()), "csr": csr_for(["v1.local"])}
    resp = await kit.client.post("/api/v1/enroll", json=body)
    assert resp.status == 200
    assert "certificate" not in await resp.json()
