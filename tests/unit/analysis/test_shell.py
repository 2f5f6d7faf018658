"""The shell reader sees the commands a RUN script runs, per architecture."""

from __future__ import annotations

from slimgate.analysis.shell import commands, expand, names_read

AMD64 = frozenset({"amd64", "x86_64", "x64"})
ARM64 = frozenset({"arm64", "aarch64"})


def argvs(script: str, arch: frozenset[str] | None = None) -> list[tuple[str, ...]]:
    return [c.argv for c in commands(script, arch) if c.argv]


def test_and_or_semicolon_and_pipes_split_commands() -> None:
    script = "set -eux; apt-get update && apt-get install -y gcc || true; ls | sort"
    assert argvs(script) == [
        ("set", "-eux"),
        ("apt-get", "update"),
        ("apt-get", "install", "-y", "gcc"),
        ("true",),
        ("ls",),
        ("sort",),
    ]


def test_line_continuations_join_words() -> None:
    assert argvs("apt-get install -y \\\n  gcc \\\n  make") == [
        ("apt-get", "install", "-y", "gcc", "make")
    ]


def test_quoted_operators_stay_inside_words() -> None:
    assert argvs("echo 'a && b; c' && find . -exec rm '{}' ';'") == [
        ("echo", "a && b; c"),
        ("find", ".", "-exec", "rm", "{}", ";"),
    ]


def test_command_substitution_with_nested_quotes_is_one_word() -> None:
    found = commands('dst="$(echo "$src" | tr -d 3)"; ln -s "$src" "$dst"')
    assert found[0].assignments == (("dst", "$(echo $src | tr -d 3)"),)
    assert found[1].argv == ("ln", "-s", "$src", "$dst")


def test_comments_are_skipped_but_hash_in_words_is_not() -> None:
    assert argvs('# install\narch="${arch##*-}"; echo x # trailing') == [("echo", "x")]


def test_assignment_prefix_and_export_are_recorded() -> None:
    found = commands("NODE_ENV=production npm ci; export A=1 B=2")
    assert found[0].argv == ("npm", "ci")
    assert found[0].assignments == (("NODE_ENV", "production"),)
    assert found[1].assignments == (("A", "1"), ("B", "2"))


def test_case_on_architecture_keeps_only_the_matching_branch() -> None:
    script = (
        'dpkgArch="$(dpkg --print-architecture)"; case "$dpkgArch" in '
        "amd64|x86_64) echo fast ;; arm64) apt-get install -y gcc ;; "
        "*) apt-get install -y build-essential ;; esac"
    )
    assert ("apt-get", "install", "-y", "gcc") not in argvs(script, AMD64)
    assert ("echo", "fast") in argvs(script, AMD64)
    assert ("apt-get", "install", "-y", "gcc") in argvs(script, ARM64)
    assert ("apt-get", "install", "-y", "build-essential") in argvs(script, frozenset({"s390x"}))


def test_case_on_something_else_keeps_every_branch() -> None:
    script = 'case "$VARIANT" in slim) echo a ;; full) apt-get install -y gcc ;; esac'
    assert ("apt-get", "install", "-y", "gcc") in argvs(script, AMD64)


def test_if_on_architecture_is_evaluated() -> None:
    script = (
        "if [ \"$dpkgArch\" = 'arm64' ]; then apt-get install -y binutils-gold; else echo no; fi"
    )
    assert ("apt-get", "install", "-y", "binutils-gold") not in argvs(script, AMD64)
    assert ("echo", "no") in argvs(script, AMD64)
    assert ("apt-get", "install", "-y", "binutils-gold") in argvs(script, ARM64)
    assert ("echo", "no") not in argvs(script, ARM64)


def test_unknown_condition_keeps_both_branches() -> None:
    script = "if command -v gcc; then echo yes; else apt-get install -y gcc; fi"
    assert {("echo", "yes"), ("apt-get", "install", "-y", "gcc")} <= set(argvs(script, AMD64))


def test_loops_groups_and_subshells_are_entered() -> None:
    script = "for k in a b; do { gpg --recv $k; } || ( gpg --recv2 $k ); done"
    assert argvs(script) == [("gpg", "--recv", "$k"), ("gpg", "--recv2", "$k")]


def test_sh_dash_c_is_read_recursively() -> None:
    assert argvs("sh -c 'apt-get install -y gcc && make'") == [
        ("apt-get", "install", "-y", "gcc"),
        ("make",),
    ]


def test_unbalanced_quote_degrades_without_raising() -> None:
    assert argvs("echo 'oops; apt-get install gcc")


def test_expand_substitutes_known_and_blanks_unknown() -> None:
    variables = {"PHPIZE_DEPS": "gcc make", "V": "1"}
    assert expand("$PHPIZE_DEPS", variables) == "gcc make"
    assert expand("${V:-2}.${MISSING}", variables) == "1."


def test_the_names_read_are_every_variable_a_word_or_assignment_expands() -> None:
    """A ``${`` left open in one word does not hide the next word's variables."""
    found = commands('A=$B apt-get install ${X $Y} "${Z:-d}" $W_1 x$ \\$')
    assert names_read(found) == {"B", "X", "Y", "Z", "W_1"}
