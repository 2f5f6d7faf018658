"""The kubelet's matching rules, case by case as its own keyring code answers them.

The expected answers are those of ``URLsMatchStr`` in kubernetes/kubernetes
``pkg/credentialprovider/keyring.go`` (v1.34.4), run on the same pairs.
"""

from __future__ import annotations

import pytest

from slimgate.kube.image_match import keyring_key, ordered_keys, parse_schemeless, urls_match

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("pattern", "image", "expected"),
    [
        ("*.dkr.ecr.*.amazonaws.com", f"{ECR}/app", True),
        ("*.amazonaws.com", f"{ECR}/app", False),  # one label per '*'
        (ECR, f"{ECR}:443/app", False),  # ports must be equal, absent equals absent only
        ("registry.io", "registry.io:5000/app", False),
        ("registry.io:5000", "registry.io/app", False),
        ("registry.io:5000", "registry.io:5000/app", True),
        ("registry.io/team", "registry.io/teamx/app", True),  # a plain string prefix
        ("registry.io/team/", "registry.io/teamx/app", False),
        ("registry.io/team", "registry.io/other/app", False),
        ("*.io", "a.k8s.io/x", False),
        ("*.gcr.io", "gcr.io/p/app", False),
        ("reg?stry.io", "registry.io/x", False),  # '?' starts a query for url.Parse
        ("Registry.IO", "registry.io/x", False),  # case-sensitive
        ("https://registry.io", "registry.io/x", False),  # no scheme stripping in matchImages
        ("registry.io/*", "registry.io/app", False),  # no globs in paths
        ("*", "localhost/app", True),
        ("[::1]:5000", "[::1]:5000/app", True),
        ("app*.example.com", "app-eu.example.com/x", True),
        ("registry.io:*", "registry.io:5000/x", False),  # an invalid port matches nothing
    ],
)
def test_urls_match_as_the_kubelet_does(pattern: str, image: str, expected: bool) -> None:
    assert urls_match(pattern, image) is expected


def test_an_invalid_port_is_refused_when_read() -> None:
    with pytest.raises(ValueError, match="invalid port"):
        parse_schemeless("registry.io:*")


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        ("https://registry.io/v2/", "registry.io"),
        ("https://registry.io/v1/team", "registry.io/team"),
        ("http://registry.io", "registry.io"),
        (ECR, ECR),
        ("registry.io/v2", "registry.io/v2"),  # only "/v2/" with its slash is dropped
    ],
)
def test_auth_keys_are_reduced_as_the_keyring_adds_them(key: str, stored: str) -> None:
    assert keyring_key(key) == stored


def test_more_specific_keys_are_tried_first() -> None:
    keys = ["*.example.com", "registry.example.com", "registry.example.com/team", "*.example.com"]
    assert ordered_keys(keys) == [
        "registry.example.com/team",
        "registry.example.com",
        "*.example.com",
    ]
