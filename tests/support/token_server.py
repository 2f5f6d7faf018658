"""A small Docker token service for registry 2.8's ``auth.token`` mode.

It follows the Docker token specification (distribution docs/spec/auth/token.md and jwt.md):
``GET /token?service=S&scope=repository:NAME:ACTIONS`` with optional HTTP basic credentials
returns ``{"token", "access_token", "expires_in", "issued_at"}``. The token is a JWT signed
ES256 by a leaf certificate issued by a test CA; the header carries that certificate in
``x5c``, which registry 2.8 verifies against ``auth.token.rootcertbundle`` (the CA), then
checks ``iss``, ``aud`` (= the service), ``exp``/``nbf`` and the ``access`` claim
(``[{"type": "repository", "name": ..., "actions": [...]}]``).

Users with the right password get pull and push on every repository; anonymous callers get
pull on the repositories in ``anonymous_pull``. Every request is recorded.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SERVICE = "slimgate-test-registry"
ISSUER = "slimgate-test-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenRequest:
    scope: str
    service: str
    username: str | None


@dataclass
class TokenServer:
    """A running token service; ``realm`` goes into the registry's config."""

    signing_ca: trustme.CA
    users: dict[str, str]
    anonymous_pull: set[str] = field(default_factory=set)
    expires_in: int = 300
    requests: list[TokenRequest] = field(default_factory=list)
    tls: trustme.LeafCert | None = None
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        leaf = self.signing_ca.issue_cert("token-signer.slimgate.test")
        key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._key = key
        cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        self._x5c = [base64.b64encode(der).decode("ascii")]

    # -- the token -------------------------------------------------------------------

    def mint(self, subject: str, access: list[dict[str, Any]], *, lifetime: int) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": self._x5c}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + _b64url(signature)

    def grant(self, scope: str, username: str | None) -> list[dict[str, Any]]:
        access = []
        for item in scope.split(" "):
            parts = item.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
            if username is not None:
                allowed = [a for a in actions if a in ("pull", "push")]
            elif name in self.anonymous_pull:
                allowed = [a for a in actions if a == "pull"]
            else:
                allowed = []
            if allowed:
                access.append({"type": "repository", "name": name, "actions": allowed})
        return access

    # -- serving -----------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1") -> TokenServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scope = " ".join(query.get("scope", []))
                service = query.get("service", [""])[0]
                username = owner._check(self.headers.get("Authorization"))
                owner.requests.append(TokenRequest(scope, service, username or None))
                if username == "":  # a failed login
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                    return
                token = owner.mint(
                    username or "anonymous", owner.grant(scope, username), lifetime=owner.expires_in
                )
                self._send(
                    200,
                    {
                        "token": token,
                        "access_token": token,
                        "expires_in": owner.expires_in,
                        "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.configure_cert(context)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def _check(self, authorization: str | None) -> str | None:
        """The user name for valid basic credentials, "" for invalid ones, None for none."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return ""
        return user if self.users.get(user) == password else ""

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def realm(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/token"

    def write_root_bundle(self, path: Path) -> Path:
        """The CA that issued the signing certificate, for ``rootcertbundle``."""
        path.write_bytes(self.signing_ca.cert_pem.bytes())
        return path

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
