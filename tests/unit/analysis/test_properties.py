"""Properties of the shell-command reader and the history reader, on generated input.

Whatever a history entry, RUN script or Dockerfile holds, reading it ends within a bounded
time (each example has a deadline) with a result or one of slimgate's own errors
(``TooComplex``, ``UsageError``), never another exception.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import MAX_MESSAGE
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.limits import Limits
from slimgate.analysis.packages import kept_packages
from slimgate.analysis.shell import EXPANSION_CHARS, Command, commands, expand
from slimgate.analysis.shell_tokens import tokens
from slimgate.analysis.steps import INSTRUCTIONS, parse_created_by, steps_from_instructions
from slimgate.errors import TooComplex, UsageError
from slimgate.model import HistoryEntry, ImageConfig, ImageMetadata, Platform
from slimgate.sources.dockerfile import parse_dockerfile

BOUNDED = settings(max_examples=400, deadline=5000, suppress_health_check=[HealthCheck.too_slow])

# The pieces shell scripts in image histories are made of, and the characters that matter.
WORDS = st.sampled_from(
    [
        *("apt-get", "apt", "install", "purge", "remove", "--auto-remove", "autoremove", "-y"),
        *("apk", "add", "del", "--virtual", ".build-deps", "apt-mark", "auto", "manual", "'.*'"),
        *("yum", "dnf", "groupinstall", "gcc", "g++", "make", "build-essential", "libc6-dev"),
        *("if", "then", "elif", "else", "fi", "case", "in", "esac", ";;", "for", "while", "do"),
        *("done", "{", "}", "(", ")", "!", "sh", "-c", "bash", "-ec", "set", "-eux", "export"),
        *("A=1", "$A", "${A}", "${A:-x}", "${A", '"$(', "$(", "`", "<<EOF", "EOF", "|1", "2>&1"),
        *("&&", "||", ";", "|", "&", "\\\n", "\n", "#", "'", '"', "\\", "amd64)", "arm64)"),
        *('"$dpkgArch"', "[", "]", "=", "!=", "go", "build", "npm", "ci", "COPY", ". ."),
    ]
)
SCRIPTS = st.lists(WORDS | st.text(max_size=6), max_size=60).map(" ".join)
ARCHES = st.sampled_from([None, frozenset({"amd64", "x86_64"}), frozenset({"arm64", "aarch64"})])
PREFIXES = st.sampled_from(
    ["", "/bin/sh -c ", "RUN /bin/sh -c ", "/bin/sh -c #(nop) ", "|2 A=1 B=2 /bin/sh -c ", "COPY "]
)
CREATED_BY = st.tuples(PREFIXES, SCRIPTS, st.sampled_from(["", " # buildkit"])).map("".join)


@BOUNDED
@given(SCRIPTS, ARCHES)
def test_any_script_reads_as_commands_or_is_too_complex(
    script: str, arch: frozenset[str] | None
) -> None:
    try:
        found = commands(script, arch)
    except TooComplex:
        return  # one of ours, naming the limit
    for command in found:
        assert isinstance(command, Command)
        assert all(isinstance(word, str) for word in command.argv)
        assert command.program == (command.argv[0].rsplit("/", 1)[-1] if command.argv else "")
    assert commands(script, arch) == found  # the memo gives what a parse gives


@BOUNDED
@given(SCRIPTS)
def test_tokens_are_words_or_the_operators_the_parser_knows(script: str) -> None:
    try:
        found = tokens(script)
    except TooComplex:
        return
    operators = {";;&", ";;", ";&", "&&", "||", ";", "|", "&", "(", ")", "\n"}
    for is_operator, text in found:
        assert text
        if is_operator:
            assert text in operators


@BOUNDED
@given(SCRIPTS, st.dictionaries(st.sampled_from(["A", "B", "DEPS"]), SCRIPTS, max_size=3))
def test_kept_packages_are_names_from_the_script_or_its_variables(
    script: str, variables: dict[str, str]
) -> None:
    try:
        kept = kept_packages(commands(script), variables)
    except TooComplex:
        return
    text = script + " " + " ".join(variables.values())
    for package in kept:
        assert package
        assert package in text or package.startswith("@")  # dnf groups are renamed


@BOUNDED
@given(SCRIPTS, st.dictionaries(st.sampled_from(["A", "B"]), st.text(max_size=3000), max_size=2))
def test_expansion_never_builds_a_word_past_its_limit(word: str, variables: dict[str, str]) -> None:
    try:
        expanded = expand(word * 20, variables)
    except TooComplex:
        return
    assert len(expanded) <= max(EXPANSION_CHARS, len(word * 20))


@BOUNDED
@given(CREATED_BY)
def test_any_history_text_has_an_instruction_and_a_body(created_by: str) -> None:
    instruction, body, args = parse_created_by(created_by)
    assert instruction == instruction.upper()  # a keyword as written, or RUN by default
    if not created_by.startswith("/bin/sh -c #(nop)"):
        assert instruction in INSTRUCTIONS
    assert isinstance(body, str)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in args)


def image(history: list[str]) -> ImageMetadata:
    return ImageMetadata(
        reference="registry.example/app:1",
        digest=None,
        platform=Platform(),
        media_type="application/vnd.oci.image.manifest.v1+json",
        config_digest="sha256:" + "0" * 64,
        layers=(),
        config=ImageConfig(
            history=tuple(HistoryEntry(created_by=h) for h in history),
            env=("PATH=/usr/bin", "A=gcc make", "GOLANG_VERSION=1.23"),
        ),
    )


@BOUNDED
@given(st.lists(CREATED_BY, max_size=30))
def test_any_history_is_analysed_into_bounded_one_line_findings(history: list[str]) -> None:
    knowledge = Knowledge(limits=Limits(findings_per_rule=3))
    analysis = analyse(image(history), knowledge)
    for finding in analysis.findings:
        assert "\n" not in finding.message
        assert len(finding.message) <= MAX_MESSAGE
    per_rule = Counter(finding.rule for finding in analysis.findings)
    assert all(count <= 4 for count in per_rule.values())  # three, and one "and N more"


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from(sorted(INSTRUCTIONS)), SCRIPTS), max_size=20))
def test_any_dockerfile_steps_are_read(instructions: list[tuple[str, str]]) -> None:
    steps = steps_from_instructions((k, v, i + 1) for i, (k, v) in enumerate(instructions))
    assert [s.instruction for s in steps] == [k for k, _ in instructions]


DOCKERFILE_LINES = st.lists(
    st.tuples(
        st.sampled_from(["FROM", "RUN", "COPY", "ENV", "ARG", "LABEL", "CMD", "", "#", "run"]),
        SCRIPTS,
        st.sampled_from(["\n", " \\\n", "\r\n"]),
    ).map(lambda t: f"{t[0]} {t[1]}{t[2]}"),
    max_size=20,
).map("".join)


@BOUNDED
@given(DOCKERFILE_LINES)
@example("FROM ²\n")  # a digit that int() refuses, read as a stage index
def test_any_dockerfile_is_linted_or_refused_with_our_errors(text: str) -> None:
    try:
        dockerfile = parse_dockerfile(text)
    except (UsageError, TooComplex):
        return  # ours, with the reason
    analysis = lint(dockerfile)
    assert all(len(f.message) <= MAX_MESSAGE for f in analysis.findings)
