"""TLS test support: serving certificates of the test CA written to files, and the serial a
server context or a live server presents."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import trustme
from cryptography import x509


def write_serving(ca: trustme.CA, directory: Path, *names: str) -> tuple[Path, Path, Path]:
    """A certificate of ``ca`` for ``names`` (by default 127.0.0.1) written into
    ``directory`` with its key and the CA: the paths of ``ca.pem``, ``tls.crt``, ``tls.key``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, cert, key = directory / "ca.pem", directory / "tls.crt", directory / "tls.key"
    leaf = ca.issue_cert(*(names or ("127.0.0.1",)))
    ca.cert_pem.write_to_path(str(ca_path))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    return ca_path, cert, key


def pair(leaf: trustme.LeafCert) -> dict[str, bytes]:
    return {"tls.crt": leaf.cert_chain_pems[0].bytes(), "tls.key": leaf.private_key_pem.bytes()}


def serial_of(leaf: trustme.LeafCert) -> int:
    return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).serial_number


def _serial(der: bytes | None) -> int:
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def handshake_serial(server: ssl.SSLContext, ca: trustme.CA) -> int:
    """Run a TLS handshake in memory against ``server``; the serial the client was shown."""
    client = ssl.create_default_context()
    ca.configure_trust(client)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(c_in, c_out, server_hostname="localhost")
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        done = 0
        for side, outgoing, peer_in in ((client_side, c_out, s_in), (server_side, s_out, c_in)):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            peer_in.write(outgoing.read())
        if done == 2:
            return _serial(client_side.getpeercert(binary_form=True))
    raise AssertionError("handshake did not complete")


def connection_serial(sock: ssl.SSLSocket) -> int:
    return _serial(sock.getpeercert(binary_form=True))


def served_serial(host: str, port: int, ca: trustme.CA) -> int:
    """Open a new TLS connection to ``host:port``; the serial of the certificate served."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return connection_serial(tls)
