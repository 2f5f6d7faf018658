"""Property tests of the readers of what a registry sends: manifests, indexes, configs,
token responses, challenges and bodies.

Whatever the bytes, each reader returns its value or raises one of slimgate's own errors
(never a RecursionError, TypeError, KeyError, UnicodeError...), and it does so in bounded
time: every example must finish within Hypothesis's per-example deadline.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slimgate.errors import AuthError, SlimgateError, TooLarge, Unsupported
from slimgate.model import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    ImageConfig,
    Platform,
)
from slimgate.oci.documents import (
    Index,
    Manifest,
    choose_platform,
    parse_config,
    parse_document,
)
from slimgate.registry.auth import token_from
from slimgate.registry.bodies import read_body
from slimgate.registry.challenges import Challenge, parse_challenge
from slimgate.registry.limits import Deadline

PROPERTY = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),  # bounded time per input, with room for a busy machine
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MEDIA_TYPES = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    DOCKER_CONFIG,
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.artifact.manifest.v1+json",
    "",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(MEDIA_TYPES),
    st.just("sha256:" + "a" * 64),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=30,
)


def descriptor() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "mediaType": st.one_of(st.sampled_from(MEDIA_TYPES), json_values),
            "digest": st.one_of(st.just("sha256:" + "b" * 64), st.text(max_size=80), json_values),
            "size": st.one_of(st.integers(min_value=-5, max_value=2**40), json_values),
            "annotations": st.one_of(
                st.dictionaries(st.text(max_size=10), st.text(max_size=10)), json_values
            ),
            "platform": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "os": st.one_of(st.sampled_from(["linux", "unknown"]), json_values),
                        "architecture": st.one_of(
                            st.sampled_from(["amd64", "arm64", "unknown"]), json_values
                        ),
                        "variant": st.one_of(st.sampled_from(["v8", "v7"]), json_values),
                    },
                ),
                json_values,
            ),
        },
    )


documents = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": st.one_of(st.sampled_from([1, 2]), json_values),
        "mediaType": st.one_of(st.sampled_from(MEDIA_TYPES), json_values),
        "config": st.one_of(descriptor(), json_values),
        "layers": st.one_of(st.lists(descriptor(), max_size=5), json_values),
        "manifests": st.one_of(st.lists(descriptor(), max_size=5), json_values),
        "annotations": json_values,
    },
)

configs = st.fixed_dictionaries(
    {},
    optional={
        "os": json_values,
        "architecture": json_values,
        "variant": json_values,
        "config": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "Env": json_values,
                    "Labels": json_values,
                    "Entrypoint": json_values,
                    "Cmd": json_values,
                    "WorkingDir": json_values,
                    "User": json_values,
                },
            ),
            json_values,
        ),
        "history": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "created_by": json_values,
                        "empty_layer": json_values,
                        "created": json_values,
                        "comment": json_values,
                    },
                ),
                max_size=5,
            ),
            json_values,
        ),
        "rootfs": st.one_of(
            st.fixed_dictionaries({}, optional={"diff_ids": json_values}), json_values
        ),
    },
)


def encoded(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Documents as JSON text, sometimes broken, nested too deep or not JSON at all."""
    as_json = strategy.map(lambda value: json.dumps(value).encode())
    deep = st.integers(min_value=1_000, max_value=200_000).map(
        lambda depth: b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    )
    return st.one_of(
        as_json,
        as_json.flatmap(lambda data: st.integers(0, len(data)).map(lambda cut: data[:cut])),
        deep,
        st.binary(max_size=200),
    )


@PROPERTY
@given(body=encoded(documents), content_type=st.sampled_from([*MEDIA_TYPES, None]))
def test_parse_document_returns_a_document_or_raises_our_error(
    body: bytes, content_type: str | None
) -> None:
    try:
        document = parse_document(body, content_type, what="m", registry="r", max_entries=3)
    except (Unsupported, TooLarge):
        return
    assert isinstance(document, Manifest | Index)
    if isinstance(document, Index):
        try:
            entry = choose_platform(document, Platform(), what="m", registry="r")
        except Unsupported:
            return
        assert entry in document.manifests


@PROPERTY
@given(body=encoded(configs))
def test_parse_config_returns_a_config_or_raises_our_error(body: bytes) -> None:
    try:
        config = parse_config(body, what="c", registry="r")
    except Unsupported:
        return
    assert isinstance(config, ImageConfig)
    assert all(isinstance(value, str) for value in (*config.env, *config.cmd, config.user))


tokens = st.fixed_dictionaries(
    {},
    optional={
        "token": st.one_of(st.text(max_size=30), json_values),
        "access_token": st.one_of(st.text(max_size=30), json_values),
        "expires_in": st.one_of(
            st.integers(min_value=-(2**1100), max_value=2**1100),
            st.floats(allow_nan=True, allow_infinity=True),
            json_values,
        ),
    },
)


@PROPERTY
@given(body=encoded(tokens))
@example(body=b'{"token": "D", "expires_in": -' + b"3" * 400 + b"}")  # no float holds it
def test_token_responses_give_a_header_safe_token_or_an_auth_error(body: bytes) -> None:
    try:
        token, lifetime = token_from(body, "r")
    except AuthError:
        return
    assert token.isascii()
    assert token.isprintable()
    assert " " not in token
    assert 0 < lifetime <= 3600


@PROPERTY
@given(header=st.text(max_size=300))
def test_challenges_parse_or_are_none_whatever_the_header(header: str) -> None:
    challenge = parse_challenge(header)
    assert challenge is None or isinstance(challenge, Challenge)


class _Chunks(httpx.SyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@PROPERTY
@given(
    content=st.binary(max_size=3000),
    encoding=st.sampled_from(["identity", "gzip", "deflate", "gzip, gzip", "br", "x-gzip", ""]),
    compress=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
    cap=st.integers(min_value=0, max_value=4000),
)
def test_bodies_are_read_whole_under_the_cap_or_refused_with_our_error(
    content: bytes, encoding: str, compress: bool, cuts: list[int], cap: int
) -> None:
    data = content
    if compress and "gzip" in encoding:
        data = zlib.compress(content, wbits=16 + zlib.MAX_WBITS)
    elif compress and encoding == "deflate":
        data = zlib.compress(content)
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(200, headers=headers, stream=_Chunks(_split(data, cuts)))
    try:
        body = read_body(response, cap, deadline=Deadline(10), what="m", registry="r")
    except SlimgateError:
        return
    assert len(body) <= cap
    if compress and encoding in ("gzip", "x-gzip", "deflate"):
        assert body == content
    elif encoding in ("identity", ""):
        assert body == data
