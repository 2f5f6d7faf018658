"""Bodies are read within their cap, and compressed ones are never inflated past it."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import httpx
import pytest

from slimgate.errors import TooLarge, Unsupported
from slimgate.registry.bodies import INFLATE_STEP, read_body
from slimgate.registry.limits import Deadline

MIB = 1024 * 1024


class Chunks(httpx.SyncByteStream):
    """A body that arrives in pieces, as from a socket (httpx does not pre-read it)."""

    def __init__(self, data: bytes, size: int = 65536) -> None:
        self._data = data
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._size):
            yield self._data[start : start + self._size]


def _read(data: bytes, encoding: str | None = None, cap: int = 4 * MIB, size: int = 65536) -> bytes:
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(200, headers=headers, stream=Chunks(data, size))
    return read_body(response, cap, deadline=Deadline(10), what="manifest", registry="r.test")


def _gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MIB)
    return b"".join(compressor.compress(block) for _ in range(size // MIB)) + compressor.flush()


def test_an_identity_body_over_the_cap_stops_reading() -> None:
    with pytest.raises(TooLarge, match="larger than the 1000-byte limit; stopped reading"):
        _read(b"x" * 5000, cap=1000, size=100)


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    response = httpx.Response(200, headers={"Content-Length": "5000"}, stream=Chunks(b""))
    with pytest.raises(TooLarge, match="is 5000 bytes, over the 1000-byte limit"):
        read_body(response, 1000, deadline=Deadline(10), what="manifest", registry="r.test")


def test_a_gzip_bomb_is_cut_at_the_cap_without_inflating_more() -> None:
    bomb = _gzip_of_zeros(256 * MIB)  # about 250 KB
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge, match="4194304-byte limit"):
            _read(bomb, "gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB + 4 * INFLATE_STEP + len(bomb)


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "identity, gzip"])
@pytest.mark.parametrize("size", [1, 1000, 65536])
def test_compressed_bodies_under_the_cap_are_inflated_whole(encoding: str, size: int) -> None:
    document = b'{"layers": [' + b'"sha256:0123456789abcdef",' * 40_000 + b'""]}'
    assert len(document) > 2 * INFLATE_STEP  # several steps, pending output between chunks
    data = gzip.compress(document) if "gzip" in encoding else zlib.compress(document)
    assert _read(data, encoding, size=size) == document


def test_exactly_a_step_of_output_is_not_lost() -> None:
    document = bytes(range(256)) * (INFLATE_STEP // 256)
    assert _read(gzip.compress(document), "gzip", size=len(document)) == document


@pytest.mark.parametrize(
    ("encoding", "data", "message"),
    [
        ("gzip, gzip", gzip.compress(gzip.compress(b"{}")), "only identity, gzip and deflate"),
        ("br", b"\x0b\x01\x80{}\x03", "only identity, gzip and deflate"),
        ("gzip", gzip.compress(b"{}" * 1000)[:-30], "ends before its compressed stream"),
        ("gzip", gzip.compress(b"{}") + b"trailing", "data after the end"),
        ("gzip", b"not gzip at all", "not valid compressed data"),
    ],
    ids=["stacked", "brotli", "truncated", "trailing", "corrupt"],
)
def test_unreadable_encodings_are_unsupported(encoding: str, data: bytes, message: str) -> None:
    with pytest.raises(Unsupported, match=message):
        _read(data, encoding)
