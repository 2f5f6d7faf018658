"""The package's public names: each resolves lazily from its home, the client's API is whole."""

from __future__ import annotations

import importlib
import inspect

import pytest

import slimgate.registry as registry


@pytest.mark.parametrize("name", registry.__all__)
def test_every_public_name_resolves_from_its_home(name: str) -> None:
    value = getattr(registry, name)
    home = importlib.import_module(f"slimgate.registry.{registry._HOMES[name]}")
    assert getattr(home, name) is value


def test_the_client_keeps_its_public_api() -> None:
    client = registry.RegistryClient
    for method in ("from_options", "fetch", "fetch_with", "with_credentials", "close"):
        assert callable(getattr(client, method))
    assert list(inspect.signature(client.fetch_with).parameters) == [
        "self",
        "reference",
        "platform",
        "credentials",
    ]
    with client() as opened:
        assert isinstance(opened.counters, registry.Counters)
        source = opened.with_credentials(registry.CredentialStore.empty())
        assert isinstance(source, registry.CredentialedSource)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nothing"):
        registry.Nothing  # noqa: B018
