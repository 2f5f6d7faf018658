"""Credential programs of the tests' own: provider plugins and Docker helpers that misbehave
on purpose, written as small Python programs into a directory (the ``binDir``).

Each program records every request it gets (stdin, arguments, environment) as one JSON
line in ``<name>.calls`` beside it, so a test can count runs and see what was passed.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

PROVIDER_API = "credentialprovider.kubelet.k8s.io/v1"

_PRELUDE = """\
#!{python}
import json, os, sys, time
request = sys.stdin.read()
call = {{"stdin": request, "args": sys.argv[1:], "env": dict(os.environ)}}
with open({calls!r}, "a") as calls:
    calls.write(json.dumps(call) + "\\n")
"""


def write_program(directory: Path, name: str, body: str) -> Path:
    """An executable program ``directory/name`` that records its call, then runs ``body``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    prelude = _PRELUDE.format(python=sys.executable, calls=str(directory / f"{name}.calls"))
    path.write_text(prelude + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def calls(directory: Path, name: str) -> list[dict[str, Any]]:
    """The calls the program ``name`` recorded, oldest first."""
    file = directory / f"{name}.calls"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines()]


def response(
    auth: dict[str, tuple[str, str]],
    *,
    cache_key_type: str = "Registry",
    cache_duration: str | None = None,
    api_version: str = PROVIDER_API,
) -> str:
    """A ``CredentialProviderResponse`` document."""
    body: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": cache_key_type,
        "auth": {k: {"username": u, "password": p} for k, (u, p) in auth.items()},
    }
    if cache_duration is not None:
        body["cacheDuration"] = cache_duration
    return json.dumps(body)


def answering(document: str, *, sleep: float = 0.0) -> str:
    """A program body that prints ``document`` (after ``sleep`` seconds)."""
    return f"time.sleep({sleep!r})\nprint({document!r})\n"


def provider_config(providers: list[dict[str, Any]]) -> str:
    """A ``CredentialProviderConfig`` (kubelet.config.k8s.io/v1) as YAML-compatible JSON."""
    items = [
        {"defaultCacheDuration": "10m", "apiVersion": PROVIDER_API, **provider}
        for provider in providers
    ]
    return json.dumps(
        {
            "apiVersion": "kubelet.config.k8s.io/v1",
            "kind": "CredentialProviderConfig",
            "providers": items,
        },
        indent=2,
    )
