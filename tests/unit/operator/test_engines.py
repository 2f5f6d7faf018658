"""The operator's engines: one shared, and per-credential ones over the same caches."""

from __future__ import annotations

from slimgate.config import parse_settings
from slimgate.operator.app import build_engine
from slimgate.registry import Credential, CredentialStore
from slimgate.registry.client import CredentialedSource


def test_an_engine_with_credentials_shares_the_client_caches_and_analyses() -> None:
    engines = build_engine(parse_settings("registry: {}\n", "c.yaml"), ["localhost:5000"])
    try:
        store = CredentialStore({"registry.example": Credential("bob", "s3cret")})
        private = engines.with_credentials(store)
        assert private is not engines.shared
        assert private.analyses is engines.shared.analyses
        assert private.policy is engines.shared.policy
        # the same client underneath (its caches and connections), with the store on top
        assert isinstance(private.source, CredentialedSource)
        assert private.source._client is engines.client
    finally:
        engines.client.close()
