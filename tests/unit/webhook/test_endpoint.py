"""The request body as the WSGI front of ``POST /validate`` reads it, limit first."""

from __future__ import annotations

import io
from typing import Any

from slimgate.webhook.endpoint import read_body


class Stream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked = 0

    def read(self, size: int | None = -1) -> bytes:
        self.asked += 1
        return super().read(size)


def environ(data: bytes, length: str | None) -> dict[str, Any]:
    env: dict[str, Any] = {"wsgi.input": Stream(data)}
    if length is not None:
        env["CONTENT_LENGTH"] = length
    return env


def test_the_declared_length_is_read() -> None:
    assert read_body(environ(b'{"a":1}', "7"), limit=100) == b'{"a":1}'


def test_a_declared_length_over_the_limit_is_refused_without_reading() -> None:
    env = environ(b"x" * 200, "200")
    assert read_body(env, limit=100) is None
    assert env["wsgi.input"].asked == 0


def test_without_a_length_the_stream_is_read_to_its_end_up_to_the_limit() -> None:
    assert read_body(environ(b"y" * 150_000, None), limit=200_000) == b"y" * 150_000
    assert read_body(environ(b"y" * 150_000, ""), limit=100_000) is None
    assert read_body(environ(b"y" * 100, "nonsense"), limit=100) == b"y" * 100
