"""An in-memory registry behind ``httpx.MockTransport`` for auth and protocol edge cases.

It serves images built by :mod:`tests.support.images` and, when ``challenge`` is set,
demands ``Authorization`` headers the way a real registry does: a Bearer challenge pointing
at ``/token`` on the realm host, or a Basic challenge. Token requests are recorded.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.support.images import Blob, Built

HOST = "registry.test"
REALM = "https://auth.test/token"


@dataclass
class TokenCall:
    method: str
    scope: str
    authorization: str | None
    form: dict[str, list[str]] = field(default_factory=dict)


class MockRegistry:
    def __init__(
        self,
        *,
        challenge: str | None = None,
        users: dict[str, str] | None = None,
        expires_in: int | None = 300,
        token_field: str = "token",  # noqa: S107 - a JSON field name
        realm: str = REALM,
    ) -> None:
        self.challenge = challenge
        self.users = users or {}
        self.expires_in = expires_in
        self.token_field = token_field
        self.realm = realm
        self.content: dict[str, Blob] = {}
        self.token_calls: list[TokenCall] = []
        self.requests: list[httpx.Request] = []
        self._issued = 0
        self.valid_tokens: set[str] = set()
        self.token_body: bytes | None = None  # when set, the token service answers this

    def add(self, repository: str, tag: str, built: Built) -> None:
        top = built.manifest  # an index's is the index
        for image in built.images:
            self.content[f"/v2/{repository}/manifests/{image.digest}"] = image.manifest
            for blob in image.blobs():
                self.content[f"/v2/{repository}/blobs/{blob.digest}"] = blob
        self.content[f"/v2/{repository}/manifests/{top.digest}"] = top
        self.content[f"/v2/{repository}/manifests/{tag}"] = top

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path in ("/token", httpx.URL(self.realm).path):
            return self._token(request)
        if not self._authorized(request.headers.get("authorization")):
            assert self.challenge is not None
            return httpx.Response(401, headers={"WWW-Authenticate": self.challenge})
        blob = self.content.get(request.url.path)
        if blob is None:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        headers = {"Content-Type": blob.media_type, "Docker-Content-Digest": blob.digest}
        if request.method == "HEAD":
            headers["Content-Length"] = str(blob.size)
            return httpx.Response(200, headers=headers)
        return httpx.Response(200, headers=headers, content=blob.data)

    def _authorized(self, header: str | None) -> bool:
        if self.challenge is None:
            return True
        if header is None:
            return False
        scheme, _, value = header.partition(" ")
        if scheme == "Bearer":
            return value in self.valid_tokens
        if scheme == "Basic":
            user, _, password = base64.b64decode(value).decode().partition(":")
            return self.users.get(user) == password
        return False

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode()) if request.method == "POST" else {}
        scope = (form.get("scope") or [request.url.params.get("scope", "")])[0]
        self.token_calls.append(
            TokenCall(request.method, scope, request.headers.get("authorization"), form)
        )
        if self.token_body is not None:
            return httpx.Response(200, content=self.token_body)
        self._issued += 1
        token = f"issued-token-{self._issued}"
        self.valid_tokens.add(token)
        body: dict[str, Any] = {self.token_field: token}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return httpx.Response(200, content=json.dumps(body).encode())


def bearer(realm: str = REALM) -> str:
    return f'Bearer realm="{realm}",service="registry.test",scope="repository:team/app:pull"'
