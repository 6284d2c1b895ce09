"""A throwaway CA and a server certificate for the TLS measure, made at run time.

With the ``openssl`` command when there is one; otherwise with the ``cryptography``
package, run by any interpreter at hand that has it (one of the peers' venvs does:
globus-sdk 3 needs it). Nothing is written outside the directory given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["Certs", "make_certs"]

SAN = "IP:127.0.0.1,IP:127.0.0.2,DNS:localhost"

_CRYPTOGRAPHY_SCRIPT = r'''
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
def pem_key(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                           serialization.NoEncryption())
ca_key = key()
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "automate-lite benchmark CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
      .not_valid_after(now + datetime.timedelta(days=2))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                   data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                   crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
      .sign(ca_key, hashes.SHA256()))
srv_key = key()
srv = (x509.CertificateBuilder()
       .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
       .issuer_name(ca_name).public_key(srv_key.public_key()).serial_number(x509.random_serial_number())
       .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
       .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                   x509.IPAddress(ipaddress.ip_address("127.0.0.2")),
                                                   x509.DNSName("localhost")]), critical=False)
       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
       .sign(ca_key, hashes.SHA256()))
open(out + "/ca.pem", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open(out + "/server.pem", "wb").write(srv.public_bytes(serialization.Encoding.PEM))
open(out + "/server.key", "wb").write(pem_key(srv_key))
'''


@dataclass(frozen=True)
class Certs:
    """Paths of the CA bundle (for clients) and of the server's certificate and key."""

    ca: str
    cert: str
    key: str
    made_with: str


def _with_openssl(openssl: str, out: str) -> None:
    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=out, check=True, capture_output=True, timeout=60)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=automate-lite benchmark CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(out, "ext.cnf"), "w") as f:
        f.write(
            f"subjectAltName={SAN}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
        )
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-sha256", "-extfile", "ext.cnf",
    )


def make_certs(out: str, pythons: list[str]) -> Certs | None:
    """Make ``ca.pem``, ``server.pem`` and ``server.key`` in ``out``; ``None`` if no tool can.

    ``pythons`` are interpreters to try for the ``cryptography`` route, in order.
    """
    os.makedirs(out, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl:
        try:
            _with_openssl(openssl, out)
            return Certs(os.path.join(out, "ca.pem"), os.path.join(out, "server.pem"), os.path.join(out, "server.key"), "openssl")
        except (subprocess.SubprocessError, OSError):
            pass
    for py in pythons:
        try:
            subprocess.run([py, "-I", "-c", _CRYPTOGRAPHY_SCRIPT, out], check=True, capture_output=True, timeout=120)
        except (subprocess.SubprocessError, OSError):
            continue
        return Certs(os.path.join(out, "ca.pem"), os.path.join(out, "server.pem"), os.path.join(out, "server.key"), "cryptography")
    return None
