"""Which toolchain packages a step leaves installed: the traps of official Dockerfiles."""

from __future__ import annotations

from slimgate.analysis.limits import Meter
from slimgate.analysis.packages import classify, kept_packages, step_kept, toolchain_kept
from slimgate.analysis.shell import commands

AMD64 = frozenset({"amd64", "x86_64", "x64"})


def kept(script: str, env: dict[str, str] | None = None, arch: frozenset[str] = AMD64) -> list[str]:
    return [k.package for k in toolchain_kept(commands(script, arch), env or {})]


def test_apt_install_kept() -> None:
    assert kept("apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev") == [
        "gcc",
        "libc6-dev",
    ]


def test_purge_in_the_same_step_is_clean() -> None:
    assert kept("apt-get install -y gcc make && make && apt-get purge -y gcc make") == []


def test_saved_apt_mark_auto_remove_pattern_is_clean() -> None:
    script = (
        'set -eux; savedAptMark="$(apt-mark showmanual)"; apt-get update; '
        "apt-get install -y --no-install-recommends dpkg-dev gcc libssl-dev make wget; "
        "make install; apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; "
        "find /usr/local -type f -executable -exec ldd '{}' ';' | awk '/=>/ { print }' "
        "| xargs -r apt-mark manual; apt-get purge -y --auto-remove "
        "-o APT::AutoRemove::RecommendsImportant=false"
    )
    assert kept(script) == []


def test_auto_remove_without_apt_mark_keeps_explicit_installs() -> None:
    assert kept("apt-get install -y gcc && apt-get autoremove -y") == ["gcc"]


def test_autoremove_naming_the_metapackage_removes_it_and_what_it_pulled_in() -> None:
    """apache/superset's lean stage: ``apt-get autoremove --purge build-essential``."""
    script = (
        "apt-get install -yqq --no-install-recommends build-essential "
        "&& pip install -r requirements.txt "
        "&& apt-get autoremove -yqq --purge build-essential"
    )
    assert kept(script) == []


def test_apk_virtual_group_added_and_deleted_is_clean() -> None:
    script = (
        "apk add --no-cache --virtual .build-deps gcc musl-dev linux-headers make "
        "&& make && apk del --no-network .build-deps"
    )
    assert kept(script) == []


def test_apk_virtual_group_never_deleted_is_kept() -> None:
    assert kept("apk add --no-cache --virtual .build-deps gcc musl-dev") == ["gcc", "musl-dev"]


def test_variable_holding_the_package_list_is_expanded() -> None:
    script = 'buildDeps="gcc libpq-dev"; apt-get install -y $buildDeps; pip install psycopg2'
    assert kept(script) == ["gcc", "libpq-dev"]


def test_variable_list_purged_in_the_same_step_is_clean() -> None:
    script = (
        "buildDeps='gcc libpq-dev' && apt-get install -y $buildDeps "
        "&& pip install psycopg2 && apt-get purge -y --auto-remove $buildDeps"
    )
    assert kept(script) == []


def test_image_environment_expands_phpize_deps() -> None:
    env = {"PHPIZE_DEPS": "autoconf dpkg-dev file g++ gcc libc-dev make pkg-config re2c"}
    script = "apt-get install -y --no-install-recommends $PHPIZE_DEPS ca-certificates curl"
    assert {"gcc", "g++", "make", "libc-dev", "re2c"} <= set(kept(script, env))


def test_install_in_a_branch_for_another_architecture_does_not_count() -> None:
    script = (
        'apkArch="$(apk --print-arch)"; case "$apkArch" in x86_64|aarch64) '
        "apk add --no-cache nginx ;; *) apk add --no-cache gcc make ;; esac"
    )
    assert kept(script) == []
    assert kept(script, arch=frozenset({"s390x"})) == ["gcc", "make"]


def test_grep_gcc_in_an_echo_string_is_not_an_install() -> None:
    script = "echo 'apt-get install -y gcc' > /notes; grep gcc /etc/issue || true"
    assert kept(script) == []


def test_set_eux_prefix_and_continuations() -> None:
    assert kept("set -eux; \\\n\tapt-get install -y \\\n\t\tg++ \\\n\t\tcmake") == ["g++", "cmake"]


def test_versions_and_architecture_suffixes_are_stripped() -> None:
    assert kept("apt-get install -y gcc=4:12.2.0-3 libc6-dev:amd64") == ["gcc", "libc6-dev"]


def test_rpm_family_install_and_remove() -> None:
    assert kept("dnf install -y gcc-c++ make openssl-devel && dnf remove -y gcc-c++") == [
        "make",
        "openssl-devel",
    ]
    assert kept("microdnf install -y gcc && microdnf clean all") == ["gcc"]
    assert kept('yum groupinstall -y "Development Tools"') == ["@development-tools"]


def test_option_values_are_not_packages() -> None:
    found = kept_packages(
        commands(
            "apt-get -o Dpkg::Options::=--force-confnew install -y -t bookworm-backports curl"
        ),
        {},
    )
    assert found == ("curl",)


def test_classes() -> None:
    assert classify("openjdk-17-jdk-headless").name == "jdk"  # type: ignore[union-attr]
    assert classify("java-17-openjdk-devel").name == "jdk"  # type: ignore[union-attr]
    assert classify("libpq-dev").name == "headers"  # type: ignore[union-attr]
    assert classify("git").triggers is False  # type: ignore[union-attr]
    assert classify("curl") is None
    assert classify("libpq5") is None


def test_a_remembered_step_is_read_again_with_the_values_of_its_variables() -> None:
    """The same script keeps what its variables say in each image, and a variable it does
    not read does not matter."""
    script = "apt-get install -y $DEPS"

    def step(env: dict[str, str]) -> list[str]:
        found = commands(script, AMD64)
        return [k.package for k in step_kept(script, AMD64, found, env, Meter())]

    assert step({"DEPS": "gcc make"}) == ["gcc", "make"]
    assert step({"DEPS": "curl"}) == []
    assert step({"DEPS": "gcc make", "PATH": "/opt/bin"}) == ["gcc", "make"]
    assert step({}) == []
