"""Transport edges (issue 14), over real sockets on 127.0.0.1: TLS failures after the
request left, one reading of every URL, response size limits, malformed framing on
the sync path, and transports that pickle."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import gzip
import ipaddress
import os
import pickle
import socket
import ssl
import subprocess
import sys
import threading
from typing import Any, Callable, Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import automate_lite as al
from automate_lite import Request
from automate_lite._core.urls import split_url
from automate_lite.errors import ConnectionLostError, TLSError, TransportError, UsageError
from automate_lite.transports import AsyncioTransport, ThreadedAsyncTransport, Urllib3Transport
from automate_lite.transports.aiohttp import AiohttpTransport
from automate_lite.transports.httpx import HttpxTransport

NO_WAIT = al.RetryPolicy(max_attempts=4, backoff_base=0.0, backoff_max=0.0)


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("edges-tls")
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def corrupt_record(req: Any, sock: socket.socket, server: Any) -> bool:
    """Read the request (the server counts it), then write a TLS record that fails its MAC."""
    os.write(sock.fileno(), b"\x17\x03\x03\x00\x40" + bytes(range(64)))
    server.pause(0.5)  # let the client read the bad record before the close
    return False


@pytest.fixture
def corrupt_tls_server(raw_server: Callable[..., Any], cert_files: tuple[str, str]) -> Any:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert_files)
    return raw_server(corrupt_record, ctx)


# ------------------------------------------------------------- TLS after the request left


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_urllib3_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    with al.ActionClient.new_client(f"{corrupt_tls_server.url}/ap", None, 5, retry=NO_WAIT) as client:
        with pytest.raises(ConnectionLostError) as info:
            client.release("a1")
    assert not isinstance(info.value, TLSError) and not info.value.not_sent
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]  # delivered once


def test_urllib3_failed_handshake_is_still_not_sent(corrupt_tls_server: Any) -> None:
    strict = Urllib3Transport(environ={}, verify=True)
    with pytest.raises(TLSError) as info:
        strict.send(Request("POST", f"{corrupt_tls_server.url}/x", {}, b"{}"), 5)
    assert info.value.not_sent and corrupt_tls_server.requests == []


def test_httpx_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(verify=False) as http:
            client = al.AsyncActionClient.new_client(
                f"{corrupt_tls_server.url}/ap", None, 5, transport=HttpxTransport(http), retry=NO_WAIT
            )
            with pytest.raises(ConnectionLostError) as info:
                await client.release("a1")
            assert not isinstance(info.value, TLSError) and not info.value.not_sent

    asyncio.run(main())
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]


def test_asyncio_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    async def main() -> None:
        client = al.AsyncActionClient.new_client(
            f"{corrupt_tls_server.url}/ap", None, 5, transport=AsyncioTransport(environ={}), retry=NO_WAIT
        )
        with pytest.raises(ConnectionLostError):
            await client.release("a1")

    asyncio.run(main())
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]
