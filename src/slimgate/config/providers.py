"""Read a kubelet ``CredentialProviderConfig``: the plugins slimgate runs for registry logins.

The file is the one a node's kubelet reads with ``--image-credential-provider-config``
(``kubelet.config.k8s.io/v1``, also ``v1beta1`` and ``v1alpha1``), so a platform team can
hand slimgate the file its nodes already have. It is read as the kubelet reads it
(kubernetes/kubernetes ``pkg/credentialprovider/plugin/config.go``, v1.34.4): a file, or a
directory whose ``*.json``, ``*.yaml`` and ``*.yml`` files are read in name order and their
providers joined; unknown keys and duplicate keys are errors (the kubelet decodes strictly);
``name``, ``matchImages``, ``defaultCacheDuration`` and ``apiVersion`` are required; names
are unique and carry no ``/`` or space.

The kubelet finds a plugin as ``name`` inside its ``--image-credential-provider-bin-dir``;
slimgate takes that directory from ``registry.credentialPlugins.binDir``, which must be
absolute, and refuses at start a plugin that is not an executable file there. Every error
names the file, the line and the key (``providers[0].name``).

Providers with ``tokenAttributes`` (the service-account-token form of KEP-4412) are skipped
with a warning: the kubelet sends such a plugin a token of the pod's own ServiceAccount,
bound to the pod, which slimgate cannot have at admission time (the pod does not exist yet)
without being allowed to mint tokens for every ServiceAccount in the cluster.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from slimgate.config.reader import KeyPath, load_yaml, located
from slimgate.errors import ConfigError
from slimgate.kube.image_match import parse_schemeless
from slimgate.registry.providers import API_VERSIONS, ProviderSpec, parse_duration

log = logging.getLogger("slimgate.config")

CONFIG_API_VERSIONS = (
    "kubelet.config.k8s.io/v1",
    "kubelet.config.k8s.io/v1beta1",
    "kubelet.config.k8s.io/v1alpha1",
)
_TOP_KEYS = {"apiVersion", "kind", "providers"}
_PROVIDER_KEYS = {
    "name",
    "matchImages",
    "defaultCacheDuration",
    "apiVersion",
    "args",
    "env",
    "tokenAttributes",
}
_SUFFIXES = (".json", ".yaml", ".yml")


class _File:
    """One file being read: its name and the line of every key, for messages."""

    def __init__(self, name: str, lines: Mapping[KeyPath, int]) -> None:
        self.name = name
        self.lines = lines

    def error(self, path: KeyPath, message: str) -> ConfigError:
        where = located(self.name, path, self.lines)
        return ConfigError(f"invalid credential provider configuration: {where}: {message}")


def read_provider_config(path: str, bin_dir: str | None) -> tuple[ProviderSpec, ...]:
    """The providers of the file or directory at ``path``, their binaries in ``bin_dir``."""
    if bin_dir is None or not os.path.isabs(bin_dir):
        raise ConfigError("registry.credentialPlugins.binDir must be an absolute directory")
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix in _SUFFIXES and p.is_file())
        if not files:
            raise ConfigError(f"{path}: no .json, .yaml or .yml credential provider file in it")
    else:
        files = [target]
    providers: list[ProviderSpec] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read credential provider configuration {file}: {exc}"
            ) from exc
        data, lines = load_yaml(text, str(file))
        where = _File(str(file), lines)
        for index, spec in _read(data, where, bin_dir):
            if spec.name in seen:
                raise where.error(
                    ("providers", index, "name"),
                    f"duplicate provider name {spec.name!r} (also at {seen[spec.name]})",
                )
            seen[spec.name] = spec.source
            providers.append(spec)
    return tuple(providers)


def _read(data: Any, where: _File, bin_dir: str) -> list[tuple[int, ProviderSpec]]:
    if not isinstance(data, Mapping):
        raise where.error((), "a CredentialProviderConfig must be a mapping")
    for key in data:
        if key not in _TOP_KEYS:
            raise where.error((str(key),), "unknown key")
    if data.get("kind") != "CredentialProviderConfig":
        raise where.error(("kind",), "must be CredentialProviderConfig")
    if data.get("apiVersion") not in CONFIG_API_VERSIONS:
        raise where.error(("apiVersion",), "must be one of " + ", ".join(CONFIG_API_VERSIONS))
    items = data.get("providers")
    if not isinstance(items, list) or not items:
        raise where.error(("providers",), "at least one provider is required")
    specs = ((i, _provider(item, ("providers", i), where, bin_dir)) for i, item in enumerate(items))
    return [(i, spec) for i, spec in specs if spec is not None]


def _provider(item: Any, at: KeyPath, where: _File, bin_dir: str) -> ProviderSpec | None:
    if not isinstance(item, Mapping):
        raise where.error(at, "a provider must be a mapping")
    for key in item:
        if key not in _PROVIDER_KEYS:
            raise where.error((*at, str(key)), "unknown key")
    for key in ("name", "matchImages", "defaultCacheDuration", "apiVersion"):
        if key not in item:
            raise where.error((*at, key), "required key is missing")
    name = item["name"]
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or " " in name:
        raise where.error((*at, "name"), "must be a file name: no '/', no space, not . or ..")
    images = item["matchImages"]
    if not isinstance(images, list) or not images:
        raise where.error((*at, "matchImages"), "at least one image pattern is required")
    for position, pattern in enumerate(images):
        if not isinstance(pattern, str) or not pattern:
            raise where.error((*at, "matchImages", position), "must be a non-empty string")
        try:
            parse_schemeless(pattern)
        except ValueError as exc:
            raise where.error((*at, "matchImages", position), f"{pattern!r}: {exc}") from None
    duration = item["defaultCacheDuration"]
    try:
        seconds = parse_duration(str(duration))
    except ValueError as exc:
        raise where.error((*at, "defaultCacheDuration"), str(exc)) from None
    if seconds < 0:
        raise where.error((*at, "defaultCacheDuration"), "must not be negative")
    api_version = item["apiVersion"]
    if api_version not in API_VERSIONS:
        raise where.error((*at, "apiVersion"), "must be one of " + ", ".join(API_VERSIONS))
    args = item.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise where.error((*at, "args"), "must be a list of strings")
    env = []
    for position, entry in enumerate(item.get("env") or []):
        spot = (*at, "env", position)
        if not isinstance(entry, Mapping) or set(entry) - {"name", "value"}:
            raise where.error(spot, "must be a mapping of name and value")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise where.error((*spot, "name"), "required key is missing")
        if not isinstance(entry.get("value", ""), str):
            raise where.error((*spot, "value"), "must be a string")
        env.append((entry["name"], entry.get("value", "")))
    binary = os.path.join(bin_dir, name)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise where.error((*at, "name"), f"no executable file {binary}")
    line = where.lines.get(at)
    source = f"{where.name}:{line}" if line is not None else where.name
    if "tokenAttributes" in item:
        log.warning(
            "credential provider %s (%s) uses tokenAttributes, the service-account token "
            "form, which slimgate does not support; it is not run",
            name,
            source,
        )
        return None
    return ProviderSpec(
        name=name,
        path=binary,
        match_images=tuple(images),
        default_cache_seconds=seconds,
        api_version=api_version,
        args=tuple(args),
        env=tuple(env),
        source=source,
    )
