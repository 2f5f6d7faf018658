"""The kubelet's rules for matching an image to a credential: ``matchImages`` and auth keys.

A kubelet credential-provider plugin is run for an image when one of its ``matchImages``
matches, and the ``auth`` keys of its answer are matched to the image the same way. The
rules are those of ``URLsMatch`` and ``BasicDockerKeyring`` in
kubernetes/kubernetes ``pkg/credentialprovider/keyring.go`` (v1.34.4):

- both strings are read as ``https://`` + the string (``url.Parse``); a scheme written in a
  ``matchImages`` entry is therefore part of its host and matches nothing;
- the ports must be equal, and a missing port equals only a missing port
  (``registry.io`` does not match ``registry.io:5000/app``);
- the hosts must have the same number of dot-separated labels, and each label of the
  pattern matches the image's label as Go's ``filepath.Match`` does (``*`` is any run of
  characters within one label, so ``*.dkr.ecr.*.amazonaws.com`` matches
  ``123456789012.dkr.ecr.eu-west-1.amazonaws.com`` but ``*.amazonaws.com`` does not);
- the pattern's path is a plain string prefix of the image's path (``registry.io/team``
  matches ``registry.io/teamx/app``, as in the kubelet);
- the comparison is case-sensitive.

Auth keys of a response are first reduced as ``BasicDockerKeyring.Add`` does: the
``http://``/``https://`` prefix and a leading ``/v1/`` or ``/v2/`` path are dropped. When
several keys match, the kubelet tries them in reverse string order (longer, more specific
keys first; ``*`` sorts before letters), and so does :func:`ordered_keys`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PORT = re.compile(r"[0-9]*")


@dataclass(frozen=True, slots=True)
class SchemelessURL:
    """An image or pattern read as the kubelet reads it: host labels, port, path."""

    labels: tuple[str, ...]
    port: str  # "" when none is written
    path: str


def parse_schemeless(text: str) -> SchemelessURL:
    """``text`` as ``url.Parse("https://" + text)`` reads it; ValueError when it does not."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise ValueError("a control character")
    end = min((i for i in map(text.find, "/?#") if i != -1), default=len(text))
    authority, rest = text[:end], text[end:]
    path = rest.split("?", 1)[0].split("#", 1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        close = host.find("]")
        if close == -1:
            raise ValueError("an IPv6 address without its closing bracket")
        name, after = host[1:close], host[close + 1 :]
        if after and not after.startswith(":"):
            raise ValueError("text after the IPv6 address")
        port = after[1:]
    else:
        name, colon, port = host.rpartition(":")
        if not colon:
            name, port = host, ""
        elif "[" in name or "]" in name:
            raise ValueError("a bracket outside an IPv6 address")
    if not _PORT.fullmatch(port):
        raise ValueError(f"invalid port {':' + port!r}")
    return SchemelessURL(tuple(name.split(".")), port, path)


def _label_pattern(pattern: str) -> re.Pattern[str] | None:
    """Go's ``filepath.Match`` pattern syntax as a regular expression (None: malformed)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= len(pattern):
                return None
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            close = pattern.find("]", i + 2)
            if close == -1:
                return None
            body = pattern[i + 1 : close]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            if not body:
                return None
            escaped = "".join("\\" + ch if ch in "\\]^[" else ch for ch in body)
            out.append(f"[{'^' if negate else ''}{escaped}]")
            i = close
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def urls_match(pattern: str, image: str) -> bool:
    """Whether ``pattern`` (a ``matchImages`` entry or an auth key) matches ``image``."""
    try:
        glob, target = parse_schemeless(pattern), parse_schemeless(image)
    except ValueError:
        return False
    if glob.port != target.port or len(glob.labels) != len(target.labels):
        return False
    if not target.path.startswith(glob.path):
        return False
    for want, have in zip(glob.labels, target.labels, strict=True):
        compiled = _label_pattern(want)
        if compiled is None or not compiled.fullmatch(have):
            return False
    return True


def keyring_key(key: str) -> str:
    """An auth key as the kubelet's keyring stores it (scheme and ``/v1/``, ``/v2/`` gone)."""
    key = re.sub(r"^https?://", "", key)
    host, slash, rest = key.partition("/")
    path = slash + rest
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    return host + path if path not in ("", "/") else host


def ordered_keys(keys: list[str]) -> list[str]:
    """Distinct keys in the order the kubelet tries them: reverse string order."""
    return sorted(set(keys), reverse=True)
