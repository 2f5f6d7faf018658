"""The analysis is bounded: an image past a limit gets one too-complex finding, findings are
capped per rule, and hostile shell text costs time linear in its length.

Times here are generous behaviour bounds (the work is linear and takes milliseconds); how
fast it is goes into ``bench/bench_complex_images.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from slimgate.analysis import rules
from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.engine import analyse
from slimgate.analysis.facts import clear_memos
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.limits import Limits
from slimgate.analysis.packages import kept_packages
from slimgate.analysis.shell import commands, expand
from slimgate.analysis.steps import parse_created_by
from slimgate.errors import TooComplex
from slimgate.model import HistoryEntry, ImageConfig, ImageMetadata, Platform
from slimgate.sources.dockerfile import MAX_CONTINUED_LINES, parse_dockerfile
from tests.support.complex_images import (
    GCC_STEP,
    GCC_STEPS,
    repeated_step_dockerfile,
    repeated_step_metadata,
)

KNOWLEDGE = Knowledge.default()


def image(*created_by: str, env: tuple[str, ...] = ()) -> ImageMetadata:
    history = tuple(HistoryEntry(created_by=text, empty_layer=True) for text in created_by)
    return ImageMetadata(
        reference="registry.example/app:1",
        digest="sha256:" + "1" * 64,
        platform=Platform(),
        media_type="application/vnd.oci.image.manifest.v1+json",
        config_digest="sha256:" + "2" * 64,
        layers=(),
        config=ImageConfig(history=history, env=env),
    )


def too_complex(analysis_reason: str | None) -> str:
    assert analysis_reason is not None
    return analysis_reason


def test_the_reported_config_of_59871_gcc_steps_is_one_bounded_finding() -> None:
    started = time.monotonic()
    analysis = analyse(repeated_step_metadata(), KNOWLEDGE, time.thread_time)
    assert time.monotonic() - started < 5.0
    (finding,) = analysis.findings
    assert finding.rule == rules.TOO_COMPLEX
    assert finding.message == "too complex to analyse: 59,871 history entries (limit 1,000)"
    assert analysis.too_complex == "59,871 history entries (limit 1,000)"
    assert analysis.base is None


def test_under_the_entry_limit_each_rule_reports_ten_findings_and_how_many_more() -> None:
    analysis = analyse(repeated_step_metadata(count=1_000), KNOWLEDGE)
    assert analysis.too_complex is None
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_INSTALLED] * 11
    kept, summary = analysis.findings[:10], analysis.findings[10]
    assert [f.message.split()[1] for f in kept] == [str(i) for i in range(10)]
    assert summary.message == "and 990 more toolchain-installed findings"
    assert summary.remediation == kept[0].remediation


def test_the_findings_cap_is_the_knowledges() -> None:
    knowledge = replace(KNOWLEDGE, limits=Limits(findings_per_rule=2))
    analysis = analyse(repeated_step_metadata(count=5), knowledge)
    assert [f.message for f in analysis.findings][-1] == "and 3 more toolchain-installed findings"
    assert len(analysis.findings) == 3


def test_an_image_at_every_limit_is_still_analysed() -> None:
    limits = Limits(history_entries=3, step_chars=40, words=4)
    knowledge = replace(KNOWLEDGE, limits=limits)
    at_limits = image("/bin/sh -c apt-get install gcc", "ENV A=1", "CMD x")
    analysis = analyse(at_limits, knowledge)
    assert analysis.too_complex is None
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_INSTALLED]


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (["ENV A=1"] * 4, "4 history entries (limit 3)"),
        (["ENV A=" + "x" * 40], "history entry 0 is 46 characters long (limit 40)"),
        (["/bin/sh -c apt-get install gcc make g++"], "more than 4 shell words"),
        (["/bin/sh -c apt-get install gcc", "/bin/sh -c make all"], "more than 4 shell words"),
    ],
)
def test_past_a_limit_the_image_is_too_complex_and_says_which(
    history: list[str], reason: str
) -> None:
    limits = Limits(history_entries=3, step_chars=40, words=4)
    analysis = analyse(image(*history), replace(KNOWLEDGE, limits=limits))
    assert analysis.too_complex == reason
    (finding,) = analysis.findings
    assert finding.rule == rules.TOO_COMPLEX
    assert finding.message == f"too complex to analyse: {reason}"


@pytest.mark.parametrize(("words", "reason"), [(7, "more than 7 shell words"), (8, None)])
def test_a_step_read_before_counts_its_words_as_it_did_the_first_time(
    words: int, reason: str | None
) -> None:
    """Five words, then $DEPS adds three and each empty $NONE takes one away: the count
    peaks at 8 and ends at 6, and a step whose result is remembered stops at the same
    peak (not at its final count) as one read afresh."""
    knowledge = replace(KNOWLEDGE, limits=Limits(words=words))
    step = "/bin/sh -c apt-get install $DEPS $NONE $NONE"
    first = image(step, env=("DEPS=gcc make cmake libc6-dev",))
    clear_memos()
    assert analyse(first, knowledge).too_complex == reason
    again = image("ENV A=1", step, env=("DEPS=gcc make cmake libc6-dev",))
    assert analyse(again, knowledge).too_complex == reason


def test_a_remembered_step_after_other_words_stops_at_its_peak_not_its_final_count() -> None:
    """The same step as above (peak 8, final 6) after a two-word step, under a limit of 9:
    2 + 8 passes the limit, while 2 + 6 would not, so only the peak it remembered stops it."""
    knowledge = replace(KNOWLEDGE, limits=Limits(words=9))
    step = "/bin/sh -c apt-get install $DEPS $NONE $NONE"
    env = ("DEPS=gcc make cmake libc6-dev",)
    clear_memos()
    assert analyse(image(step, env=env), knowledge).too_complex is None  # now remembered
    after = analyse(image("/bin/sh -c true x", step, env=env), knowledge)
    assert after.too_complex == "more than 9 shell words"


def test_build_args_and_expanded_variables_count_as_words() -> None:
    knowledge = replace(KNOWLEDGE, limits=Limits(words=10))
    args = analyse(image("|8 " + "A=1 " * 8 + "/bin/sh -c apt-get install gcc"), knowledge)
    assert args.too_complex == "more than 10 shell words"
    expanded = analyse(
        image("/bin/sh -c apt-get install $DEPS", env=("DEPS=" + "gcc " * 20,)), knowledge
    )
    assert expanded.too_complex == "more than 10 shell words"


class Ticking:
    """A CPU clock that advances ``step`` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def test_the_cpu_budget_is_spent_on_the_clock_it_is_given() -> None:
    steps = [f"/bin/sh -c apt-get install gcc-{i}" for i in range(20)]
    slow = Ticking(0.1)  # 0.1 s per read: past 0.5 s within the first steps
    analysis = analyse(image(*steps), KNOWLEDGE, slow)
    assert analysis.too_complex == "more than 0.5 s of CPU time"
    assert slow.reads < 10  # it stopped there, it did not read all 20 steps first
    fast = Ticking(0.0001)
    analysis = analyse(image(*steps), KNOWLEDGE, fast)
    assert analysis.too_complex is None
    assert fast.reads > 20  # checked at every step and between rules


def test_without_a_clock_only_the_size_limits_apply() -> None:
    steps = [f"/bin/sh -c apt-get install gcc-{i}" for i in range(20)]
    knowledge = replace(KNOWLEDGE, limits=Limits(cpu_seconds=0.0))
    assert analyse(image(*steps), knowledge).too_complex is None
    assert analyse(image(*steps), knowledge, Ticking(1.0)).too_complex is not None


@pytest.mark.parametrize(
    "script",
    [
        "(" * 1000 + "apt-get install gcc" + ")" * 1000,
        "{ " * 1000 + "apt-get install gcc" + "; }" * 1000,
        "if true; then " * 1000 + "x" + "; fi" * 1000,
        "echo " + '"$(' * 1000 + "x" + ')"' * 1000,
        "case a in x) " * 1000 + "y" + " ;; esac" * 1000,
    ],
)
def test_deep_nesting_is_too_complex_not_a_recursion_error(script: str) -> None:
    with pytest.raises(TooComplex, match="nested too deeply"):
        commands(script)
    analysis = analyse(image("/bin/sh -c " + script), KNOWLEDGE)
    assert analysis.too_complex is not None
    assert "nested too deeply" in analysis.too_complex


def test_sh_c_counts_towards_the_nesting() -> None:
    script = """sh -c "bash -c 'apt-get install gcc'" """
    assert [c.argv for c in commands(script)] == [("apt-get", "install", "gcc")]
    inner = "( ( ( apt-get install gcc ) ) )"
    outer = f"( ( ( sh -c '{inner}' ) ) )"
    assert [c.argv for c in commands(outer, nesting=8)] == [("apt-get", "install", "gcc")]
    assert commands(inner, nesting=5)  # the inner script alone fits in 5 levels
    assert commands("( ( ( sh -c x ) ) )", nesting=5)  # and so does the outer one
    with pytest.raises(TooComplex):
        commands(outer, nesting=5)  # each script alone fits in 5 levels, together they do not


def test_ordinary_nesting_is_read() -> None:
    script = 'if [ "$a" = x ]; then ( { for f in 1 2; do echo "$(cat "$(ls)")"; done; } ); fi'
    assert ("echo", "$(cat $(ls))") in [c.argv for c in commands(script)]


def test_variables_that_double_with_every_assignment_stop_at_the_expansion_limit() -> None:
    script = "A=0123456789; " + "; ".join(f"V{i}=$V{i - 1}$V{i - 1}" for i in range(1, 40))
    script = script.replace("$V0", "$A") + "; apt-get install $V39"
    started = time.monotonic()
    with pytest.raises(TooComplex, match="expands to more than 4,096 characters"):
        kept_packages(commands(script), {})
    assert time.monotonic() - started < 2.0


def test_expand_adds_up_the_length_before_building_the_word() -> None:
    variables = {"A": "x" * 1000}
    assert expand("$A$A", variables, limit=2000) == "x" * 2000
    with pytest.raises(TooComplex):
        expand("$A" * 100_000, variables, limit=2000)


def test_an_apt_mark_regular_expression_is_never_run() -> None:
    """``(a+)+b`` backtracks for hours against a long name; only globs are matched."""
    name = "a" * 40
    script = f"apt-get install {name} gcc; apt-mark auto '(a+)+b' '^gc.*$'; apt-get autoremove"
    started = time.monotonic()
    assert kept_packages(commands(script), {}) == (name,)  # gcc marked auto and removed
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "created_by",
    [
        "RUN " + " " * 1_000_000 + "x",  # the buildkit trailer regex was quadratic here
        "|1000000 " + "A=1 " * 200_000 + "/bin/sh -c x",  # each build arg copied the rest
    ],
)
def test_history_text_is_read_in_linear_time(created_by: str) -> None:
    started = time.monotonic()
    parse_created_by(created_by)
    assert time.monotonic() - started < 2.0


def test_unclosed_variables_are_read_in_linear_time() -> None:
    word = "${a" * 20_000
    started = time.monotonic()
    assert expand(word, {"a": "x"}) == word
    assert time.monotonic() - started < 2.0


def test_the_dockerfile_lint_has_the_same_bounds() -> None:
    analysis = lint(parse_dockerfile(repeated_step_dockerfile()))
    assert analysis.too_complex == f"{GCC_STEPS:,} instructions in the final stage (limit 1,000)"
    (finding,) = analysis.findings
    assert finding.rule == rules.TOO_COMPLEX
    capped = lint(parse_dockerfile(repeated_step_dockerfile(count=50)))
    assert [f.message for f in capped.findings][-1] == "and 40 more toolchain-installed findings"
    slow = lint(parse_dockerfile(repeated_step_dockerfile(count=50)), clock=Ticking(1.0))
    assert slow.too_complex == "more than 0.5 s of CPU time"


def test_unterminated_heredocs_are_read_in_linear_time() -> None:
    started = time.monotonic()
    parse_dockerfile("FROM debian\n" + "RUN <<EOF\n" * 50_000)
    parse_dockerfile("FROM debian\nRUN " + '<<EOF "' * 50_000 + "\nEOF\n")
    assert time.monotonic() - started < 5.0


def test_a_heredoc_still_ends_at_its_terminator() -> None:
    text = "FROM debian\nRUN <<EOF\napt-get install gcc\nEOF\nRUN <<-END\n\tmake\n\tEND\nCMD x\n"
    steps = parse_dockerfile(text).stages[0].instructions
    assert [(i.keyword, i.line) for i in steps] == [("RUN", 2), ("RUN", 5), ("CMD", 8)]
    assert steps[0].value.endswith("\napt-get install gcc\nEOF")


def test_a_dockerfile_continued_over_too_many_lines_is_too_complex() -> None:
    text = "FROM debian\nRUN a \\\n" + "b \\\n" * MAX_CONTINUED_LINES + "c\n"
    with pytest.raises(TooComplex, match="continues over more than 10,000 lines"):
        parse_dockerfile(text)
    parse_dockerfile("FROM debian\nRUN a \\\n" + "b \\\n" * 100 + "c\n")


def test_the_step_that_triggered_the_limit_is_not_needed_to_see_the_reason() -> None:
    steps = [GCC_STEP] * 1_001
    assert too_complex(analyse(image(*steps), KNOWLEDGE).too_complex) == (
        "1,001 history entries (limit 1,000)"
    )
