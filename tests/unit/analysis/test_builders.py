"""Images built without a Dockerfile, and the builders' history traps (tests/fixtures/builders).

Each fixture reproduces public metadata (a captured config or history, or what the builder's
own source writes) and records its sources, what was assumed, and the decision expected
with the default policy; the fixtures' README lists them.
"""

from __future__ import annotations

import pytest

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Analysis
from slimgate.analysis.knowledge import Knowledge
from tests.support import corpus

KNOWLEDGE = Knowledge.default()
NAMES = corpus.names(corpus.BUILDERS)


def analysed(name: str) -> Analysis:
    return analyse(corpus.load(name, corpus.BUILDERS), KNOWLEDGE)


def decision(analysis: Analysis) -> str:
    actions = {rules.DEFAULT_ACTIONS[f.rule] for f in analysis.findings}
    return "deny" if "deny" in actions else "warn" if "warn" in actions else "allow"


@pytest.mark.parametrize("name", NAMES)
def test_builder_fixture_gets_its_expected_decision(name: str) -> None:
    expected = corpus.raw(name, corpus.BUILDERS)["expect"]["decision"]
    analysis = analysed(name)
    assert decision(analysis) == expected, [f.message for f in analysis.findings]


@pytest.mark.parametrize("name", NAMES)
def test_every_builder_fixture_records_its_sources(name: str) -> None:
    data = corpus.raw(name, corpus.BUILDERS)
    assert isinstance(data["source"], list)
    assert data["source"], name
    assert data["why"], name
    assert "assumed" in data


def test_a_jdk_is_never_reported_as_a_jre() -> None:
    for name in ("chainguard-jdk", "paketo-app-jvm-jdk", "java-8-app-userlist"):
        analysis = analysed(name)
        assert {f.rule for f in analysis.findings} == {rules.JDK_RUNTIME}, name
        assert analysis.base is not None
        assert "JRE" not in analysis.base.name


def test_buildpacks_jdk_launch_layer_is_named_with_its_buildpack_and_fix() -> None:
    analysis = analysed("paketo-app-jvm-jdk")
    finding = analysis.findings[0]
    assert finding.layer == 3  # after the run image layer: helper, java-security-properties, jdk
    assert finding.created_by is not None
    assert "Layer: 'jdk'" in finding.created_by
    assert "BP_JVM_TYPE=JRE" in finding.message
    assert analysis.base is not None
    assert "bellsoft-liberica" in analysis.base.evidence


def test_buildpacks_builder_build_and_run_images_are_told_apart() -> None:
    builder = analysed("paketo-builder-jammy-base")
    assert builder.base is not None
    assert builder.base.name == "buildpacks builder"
    assert "pack build" in (builder.findings[0].remediation or "")
    run = corpus.load("paketo-run-jammy-base", corpus.BUILDERS)
    assert analyse(run, KNOWLEDGE).findings == ()
    # The stack's build image carries the same stack labels as the run image, plus CNB_*
    # (paketo-buildpacks/jam internal/ihop/creator.go): a toolchain image.
    from dataclasses import replace

    build = replace(
        run,
        config=replace(
            run.config,
            env=(*run.config.env, "CNB_USER_ID=1001", "CNB_GROUP_ID=1000", "CNB_STACK_ID=x"),
            labels={
                **run.config.labels,
                "io.buildpacks.stack.description": (
                    "ubuntu:jammy with compilers and shell utilities"
                ),
            },
        ),
    )
    found = analyse(build, KNOWLEDGE)
    assert {f.rule for f in found.findings} == {rules.TOOLCHAIN_BASE}
    assert found.base is not None
    assert found.base.name == "buildpacks build image"


def test_nix_store_paths_in_comments_are_read_when_created_by_is_empty() -> None:
    from dataclasses import replace

    image = corpus.load("nix-streamlayered-go-toolchain", corpus.BUILDERS)
    # The same layers with an application as the command: the comments alone tell.
    app = replace(image, config=replace(image.config, cmd=("/nix/store/x-app-1.0/bin/app",)))
    analysis = analyse(app, KNOWLEDGE)
    kept = [f for f in analysis.findings if f.rule == rules.TOOLCHAIN_INSTALLED]
    messages = " ".join(f.message for f in kept)
    for name in ("binutils-2.42", "gcc-13.3.0", "go-1.22.3"):
        assert name in messages
    assert all("dockerTools" in (f.remediation or "") for f in kept)
    assert {f.layer for f in kept} == {1, 2, 3, 4, 5}  # glibc (0) and the app are runtime


def test_rules_docker_prepended_history_is_paired_with_the_right_layers() -> None:
    image = corpus.load("rules-docker-app-on-golang-alpine", corpus.BUILDERS)
    finding = analyse(image, KNOWLEDGE).findings[0]
    sdk = max(image.layers, key=lambda layer: layer.size)
    assert finding.size == sdk.size  # the 71 MB Go SDK layer, not the 127-byte one
    assert finding.created_by == "COPY /target/ / # buildkit"


def test_unpaired_history_is_said_rather_than_a_wrong_step_quoted() -> None:
    from dataclasses import replace

    image = corpus.load("apt-remove-without-autoremove", corpus.BUILDERS)
    squashed = replace(image, layers=image.layers[:-1])
    finding = next(f for f in analyse(squashed, KNOWLEDGE).findings)
    assert finding.layer is None
    assert finding.size is None
    assert finding.created_by is not None
    assert finding.created_by.startswith("[history has 7 layer entries for 6 layers")


def test_apko_java_without_a_title_says_it_cannot_tell() -> None:
    from dataclasses import replace

    image = corpus.load("chainguard-jdk", corpus.BUILDERS)
    untitled = replace(image, config=replace(image.config, labels={}))
    analysis = analyse(untitled, KNOWLEDGE)
    assert analysis.findings == ()
    assert analysis.base is not None
    assert "cannot tell" in analysis.base.name
    assert "does not say whether it is a JDK or a JRE" in analysis.base.evidence
