"""Reading the body of a registry answer: within its cap, and never inflated past it.

Every request asks for ``Accept-Encoding: identity`` (:data:`HEADERS`): manifests, configs
and token responses are small JSON documents and compression buys nothing worth its risk. A
server that compresses anyway is still read, but the compressed bytes come from
``iter_raw`` and are inflated here, one network chunk at a time, with zlib's
``max_length`` set to what is left of the cap: no more than the cap plus one byte is ever
produced, however small the compressed input (a gigabyte of zeros gzips to about a
megabyte). httpx's own decoding (``Response.iter_bytes``) inflates each chunk in one call
and would hand over tens of megabytes at once, so it is not used. One layer of ``gzip`` or
``deflate`` (RFC 9110, section 8.4.1) is accepted; other or stacked encodings are refused.

Reading happens under the request's deadline, which the transport applies to every socket
read; ``Content-Length`` is checked but not trusted.
"""

from __future__ import annotations

import zlib

import httpx

from slimgate.errors import TooLarge, Unsupported
from slimgate.registry.limits import Deadline

HEADERS = {"Accept-Encoding": "identity"}
DISCARD_BYTES = 64 * 1024  # a body read only to keep the connection, at most
INFLATE_STEP = 256 * 1024  # bytes inflated per call, so no big temporary copy is made


def _inflater(encoding: str, what: str, registry: str) -> zlib._Decompress | None:
    """A decompressor for ``Content-Encoding: encoding``; None for identity."""
    codings = [c.strip().lower() for c in encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if codings in (["gzip"], ["x-gzip"]):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if codings == ["deflate"]:
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise Unsupported(
        f"{registry}: {what} came with Content-Encoding {encoding!r}; only identity, gzip "
        "and deflate are read",
        registry=registry,
    )


def _too_large(cap: int, what: str, registry: str) -> TooLarge:
    return TooLarge(
        f"{registry}: {what} is larger than the {cap}-byte limit; stopped reading",
        registry=registry,
    )


def read_body(
    response: httpx.Response,
    cap: int,
    *,
    deadline: Deadline,
    what: str,
    registry: str,
) -> bytes:
    """The body of ``response``, decoded, if it fits in ``cap`` bytes; else :class:`TooLarge`.

    Transport errors (``httpx.TransportError``, timeouts included) pass through for the
    caller to name.
    """
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise TooLarge(
            f"{registry}: {what} is {int(length)} bytes, over the {cap}-byte limit",
            registry=registry,
        )
    if response.is_stream_consumed:  # read before it came here (in-memory test transports)
        if len(response.content) > cap:
            raise _too_large(cap, what, registry)
        return response.content
    inflater = _inflater(response.headers.get("content-encoding", ""), what, registry)
    buffer = bytearray()
    try:
        for chunk in response.iter_raw():
            if inflater is None:
                buffer += chunk
            else:
                _inflate(inflater, chunk, buffer, cap, what, registry)
            if len(buffer) > cap:
                raise _too_large(cap, what, registry)
            deadline.remaining(registry=registry)
        if inflater is not None and not inflater.eof:
            raise Unsupported(
                f"{registry}: the compressed {what} ends before its compressed stream does",
                registry=registry,
            )
        return bytes(buffer)
    finally:
        # The traceback of an error keeps this frame, and errors are kept (single-flight
        # waiters, reference cycles): it must not keep up to a cap's worth of bytes too.
        buffer.clear()


def _inflate(
    inflater: zlib._Decompress,
    chunk: bytes,
    buffer: bytearray,
    cap: int,
    what: str,
    registry: str,
) -> None:
    """Inflate ``chunk`` into ``buffer``, producing at most one byte past ``cap``, in steps
    of at most :data:`INFLATE_STEP` bytes."""
    data = chunk
    while not inflater.eof:
        want = min(cap + 1 - len(buffer), INFLATE_STEP)
        try:
            out = inflater.decompress(data, want)
        except zlib.error as exc:
            raise Unsupported(
                f"{registry}: {what} is not valid compressed data ({exc})", registry=registry
            ) from None
        buffer += out
        if len(buffer) > cap:
            raise _too_large(cap, what, registry)
        data = inflater.unconsumed_tail
        if not data and len(out) < want:
            break  # all of the chunk is inflated and nothing is pending
    if inflater.unused_data or (inflater.eof and data):
        raise Unsupported(
            f"{registry}: {what} has data after the end of its compressed stream",
            registry=registry,
        )


def discard(response: httpx.Response) -> None:
    """Close ``response``; first read a small declared body so the connection can be reused.

    Anything without a small ``Content-Length`` is not read: the connection is dropped
    instead. The read is raw (nothing is inflated) and bounded by the request's deadline.
    """
    try:
        if response.is_closed or response.is_stream_consumed:
            return
        length = response.headers.get("content-length", "")
        small = length.isdigit() and int(length) <= DISCARD_BYTES
        if not (small or response.request.method == "HEAD"):  # a HEAD answer has no body
            return
        seen = 0
        for chunk in response.iter_raw():
            seen += len(chunk)
            if seen > DISCARD_BYTES:
                break
    except httpx.HTTPError:
        pass
    finally:
        response.close()
