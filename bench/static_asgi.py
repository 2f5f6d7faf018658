"""A static responder on the webhook's own server: the ceiling of that server.

``bench_webhook.py`` serves this with the same server, protocol, loop, TLS files and
keep-alive as ``slimgate serve`` (``bench_servers.py`` with each candidate server), and
posts the same AdmissionReview to it. It reads the
body and answers with the canned AdmissionReview in the file named by
``SLIMGATE_BENCH_RESPONSE``, so the difference to the webhook is slimgate's own work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_BODY = Path(os.environ["SLIMGATE_BENCH_RESPONSE"]).read_bytes()
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
