"""Read a Cloud Native Buildpacks app image: which buildpack layers it launches with.

The lifecycle exporter (buildpacks/lifecycle ``phase/exporter.go``, ``layers/factory.go``)
puts the run image's layers first, then one layer per buildpack launch layer, the SBOM,
the app, the launcher and its config. Two records say which layer is which:

* the label ``io.buildpacks.lifecycle.metadata`` (JSON): ``buildpacks[].key``/``version``
  and ``layers{<name>: {sha, launch, data}}``, where ``sha`` is the layer's diff id
  (``platform/files``, ``buildpack/layermetadata.go``);
* the history, from platform API 0.12 on: ``Layer: '<name>', Created by buildpack:
  <id>@<version>``. Older platforms blank every entry to 1980-01-01 with no
  ``created_by`` (buildpacks/imgutil ``SetCreatedAtAndHistory``).

A launch layer named ``jdk`` is a JDK at run time: paketo-buildpacks/libjvm contributes
the JDK as a build-only layer, and only as a launch layer named ``jdk`` when the JRE was
not wanted (``BP_JVM_TYPE=JDK``) or not available (``build.go``, ``jre.go``, ``jdk.go``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from slimgate.analysis import rules
from slimgate.analysis.facts import Facts
from slimgate.analysis.findings import BaseImage, Method
from slimgate.analysis.recognition import Recognition

LIFECYCLE_LABEL = "io.buildpacks.lifecycle.metadata"
METADATA_CHARS = 1024 * 1024  # a larger label is not parsed (history still is)
_HISTORY = re.compile(r"^Layer: '(?P<layer>[^']*)', Created by buildpack: (?P<bp>\S+)$")
APP_ENV = ("CNB_LAYERS_DIR", "CNB_APP_DIR", "CNB_PLATFORM_API")
# Launch layer names that put a toolchain in the app image, and the rule each earns.
TOOLCHAIN_LAYERS: dict[str, str] = {"jdk": rules.JDK_RUNTIME}


@dataclass(frozen=True, slots=True)
class LaunchLayer:
    buildpack: str  # "paketo-buildpacks/bellsoft-liberica@10.5.2"
    name: str  # "jdk"
    index: int | None  # the image layer, when its diff id or history says which
    what: str  # "BellSoft Liberica JDK 21.0.4", when the layer metadata names it


def _metadata(facts: Facts) -> dict[str, Any] | None:
    text = facts.labels.get(LIFECYCLE_LABEL)
    if not text or len(text) > METADATA_CHARS:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _dependency(layer: Any) -> str:
    data = layer.get("data") if isinstance(layer, dict) else None
    dependency = data.get("dependency") if isinstance(data, dict) else None
    if not isinstance(dependency, dict):
        return ""
    name, version = dependency.get("name"), dependency.get("version")
    return " ".join(str(part) for part in (name, version) if isinstance(part, str))


def _from_metadata(data: dict[str, Any], facts: Facts) -> list[LaunchLayer]:
    index_of = {diff_id: i for i, diff_id in enumerate(facts.diff_ids)}
    found: list[LaunchLayer] = []
    buildpacks = data.get("buildpacks")
    for buildpack in buildpacks if isinstance(buildpacks, list) else ():
        if not isinstance(buildpack, dict) or not isinstance(buildpack.get("layers"), dict):
            continue
        ident = f"{buildpack.get('key', '?')}@{buildpack.get('version', '?')}"
        for name, layer in buildpack["layers"].items():
            if isinstance(layer, dict) and layer.get("launch") is False:
                continue  # a build or cache layer never reaches the image
            sha = layer.get("sha") if isinstance(layer, dict) else None
            index = index_of.get(sha) if isinstance(sha, str) else None
            found.append(LaunchLayer(ident, str(name), index, _dependency(layer)))
    return found


def _from_history(facts: Facts) -> list[LaunchLayer]:
    found = []
    for step in facts.steps:
        match = _HISTORY.match(step.step.created_by)
        if match is not None:
            found.append(LaunchLayer(match.group("bp"), match.group("layer"), step.step.layer, ""))
    return found


def is_app_image(facts: Facts) -> bool:
    env = facts.env
    return (
        facts.builder == "buildpacks"
        or LIFECYCLE_LABEL in facts.labels
        or (APP_ENV[0] in env and APP_ENV[1] in env)
    )


def app_recognition(facts: Facts) -> Recognition | None:
    """A buildpacks app image, with the rule its launch layers earn (None when clean)."""
    if not is_app_image(facts):
        return None
    data = _metadata(facts)
    layers = _from_metadata(data, facts) if data is not None else []
    history = _from_history(facts)
    # The history pairs names with layers when the diff ids did not.
    by_name = {(layer.buildpack, layer.name): layer.index for layer in history}
    layers = [
        LaunchLayer(
            layer.buildpack,
            layer.name,
            layer.index if layer.index is not None else by_name.get((layer.buildpack, layer.name)),
            layer.what,
        )
        for layer in layers
    ] or history
    toolchain = [layer for layer in layers if layer.name in TOOLCHAIN_LAYERS]
    source = "label " + LIFECYCLE_LABEL if data is not None else "history"
    if not toolchain:
        evidence = (
            f"{source}: launch layers {', '.join(sorted({layer.name for layer in layers}))}"
            if layers
            else "CNB_* app environment; no launch layer names a toolchain"
        )
        base = BaseImage("buildpacks app image", "buildpacks", Method.LABEL, evidence)
        return Recognition(base, None, "buildpacks", None, builder="buildpacks")
    first = toolchain[0]
    what = f" ({first.what})" if first.what else ""
    evidence = f"{source}: launch layer '{first.name}'{what} from {first.buildpack}"
    base = BaseImage("buildpacks app with a JDK layer", "java", Method.LABEL, evidence)
    indices = tuple(sorted({layer.index for layer in toolchain if layer.index is not None}))
    return Recognition(
        base,
        TOOLCHAIN_LAYERS[first.name],
        "java",
        None,
        remedy="buildpacks-jdk",
        layers=indices,
        builder="buildpacks",
    )
