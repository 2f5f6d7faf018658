"""An in-memory stand-in for the operator's ``Api`` seam: objects, resourceVersions, 409s."""

from __future__ import annotations

import builtins
import copy
import itertools
from collections.abc import Mapping
from typing import Any

from slimgate.cluster.api import Json
from slimgate.errors import KubeError


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], Json] = {}
        self.calls: list[tuple[str, str, str | None]] = []
        self._versions = itertools.count(1)
        self._names = itertools.count(1)
        self.fail_plural: set[str] = set()

    def _check(self, verb: str, plural: str, namespace: str | None) -> None:
        self.calls.append((verb, plural, namespace))
        if plural in self.fail_plural:
            raise KubeError(f"{verb} {plural}: 500 boom", 500)

    def put(self, api_version: str, plural: str, body: Mapping[str, Any]) -> Json:
        stored = copy.deepcopy(dict(body))
        meta = stored.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[(api_version, plural, meta.get("namespace", ""), meta["name"])] = stored
        return copy.deepcopy(stored)

    def get(self, api_version: str, plural: str, namespace: str, name: str) -> Json | None:
        self._check("get", plural, namespace)
        found = self.objects.get((api_version, plural, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def list(
        self, api_version: str, plural: str, namespace: str | None = None, selector: str = ""
    ) -> list[Json]:
        self._check("list", plural, namespace)
        wanted = dict(item.split("=", 1) for item in selector.split(",") if item)
        return [
            copy.deepcopy(body)
            for (a, p, ns, _), body in sorted(self.objects.items())
            if a == api_version
            and p == plural
            and (namespace is None or ns == namespace)
            and all((body["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]

    def create(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> Json:
        self._check("create", plural, namespace)
        created: Json = copy.deepcopy(dict(body))
        meta = created.setdefault("metadata", {})
        meta["namespace"] = namespace
        if "generateName" in meta and "name" not in meta:
            meta["name"] = f"{meta['generateName']}{next(self._names)}"
        if (api_version, plural, namespace, meta["name"]) in self.objects:
            raise KubeError("already exists", 409)
        return self.put(api_version, plural, created)

    def replace(
        self, api_version: str, plural: str, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Json:
        self._check("replace", plural, namespace)
        current = self.objects.get((api_version, plural, namespace, name))
        if current is None:
            raise KubeError("not found", 404)
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
            raise KubeError("conflict", 409)
        return self.put(api_version, plural, body)

    def delete(self, api_version: str, plural: str, namespace: str, name: str) -> None:
        self._check("delete", plural, namespace)
        self.objects.pop((api_version, plural, namespace, name), None)

    def writes(self, plural: str) -> builtins.list[tuple[str, str, str | None]]:
        return [c for c in self.calls if c[1] == plural and c[0] in ("create", "replace")]
