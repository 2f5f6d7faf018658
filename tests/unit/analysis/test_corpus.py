"""Real official images (docker-library repo-info records): toolchains found, runtimes clean.

Each case names the rules expected with default thresholds. Oversize-layer findings are
listed where a real layer is over 200 MB compressed (the buildpack-deps compiler layer).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Method, Severity
from slimgate.analysis.knowledge import Knowledge
from tests.support import corpus

TB, FL, JDK, PHP, TI, BIG = (
    rules.TOOLCHAIN_BASE,
    rules.FULL_LANGUAGE_BASE,
    rules.JDK_RUNTIME,
    rules.PHP_EXTENSION_TOOLCHAIN,
    rules.TOOLCHAIN_INSTALLED,
    rules.OVERSIZE_LAYER,
)

EXPECTED: dict[str, tuple[set[str], str | None]] = {
    # name: (rules, recognised base name)
    "golang-1-bookworm": ({TB}, "golang"),
    "golang-1-alpine": ({TB}, "golang"),
    "rust-1-bookworm": ({TB, BIG}, "rust"),
    "gcc-14": ({TB, BIG}, "gcc"),
    "maven-3-eclipse-temurin-21": ({TB}, "maven"),
    "buildpack-deps-bookworm": ({TB, BIG}, "buildpack-deps"),
    "eclipse-temurin-21-jdk": ({JDK}, "JDK"),
    "eclipse-temurin-21-jre": (set(), "JRE"),
    "node-22-bookworm": ({FL, BIG}, "node (full)"),
    "node-22-bookworm-slim": (set(), "node (slim)"),
    "node-22-alpine": (set(), "node (alpine)"),
    "python-3.12-bookworm": ({FL, BIG}, "python (full)"),
    "python-3.12-slim-bookworm": (set(), "python (slim)"),
    "python-3.12-alpine": (set(), "python (alpine)"),
    "php-8.3-cli": ({PHP}, "php (keeps $PHPIZE_DEPS)"),
    "ruby-3.4-bookworm": ({FL, BIG}, "ruby (full)"),
    "ruby-3.4-slim-bookworm": (set(), "ruby (slim)"),  # temporary rustup removed in-step
    "httpd-2.4": (set(), None),
    "debian-bookworm": (set(), None),
    "debian-bookworm-slim": (set(), None),
    "alpine-3.24": (set(), None),
    "ubuntu-24.04": (set(), None),
    "nginx-stable": (set(), None),
    "redis-7": (set(), None),
    "memcached-1.6": (set(), None),
    "haproxy-3.0": (set(), None),
    "postgres-17": (set(), None),
    "rust-1-slim-bookworm": ({TB, BIG}, "rust"),
    "amazoncorretto-21": ({JDK}, "JDK"),
    "eclipse-temurin-21-jre-alpine": (set(), "JRE"),
    "composer-2": ({TB}, "composer"),  # a build tool: its make/git/hg/svn layer is the base's
    "ghost-6": (set(), "node (slim)"),  # native-module compilers purged in the same RUN
    "buildpack-deps-bookworm-scm": (set(), None),  # version control without compilers
    "julia-1": ({BIG}, None),
    "rabbitmq-4": (set(), None),
    # Told apart from the buildpack-deps they are built on, each with its own remedy:
    "perl-5": ({FL, BIG}, "perl (full)"),
    "erlang-27": ({FL, BIG}, "erlang (full)"),
    "elixir-1.18": ({FL, BIG}, "elixir (full)"),
    "haskell-9": ({TB, BIG}, "haskell (ghc)"),
    "clojure-temurin-21-lein": ({TB}, "leiningen"),  # not the JRE its JAVA_HOME suggested
    "gradle-jdk21": ({TB}, "gradle"),
    "swift-6.0": ({TB, BIG}, "swift"),  # the 800 MB toolchain, not only its headers
    "wordpress-7-apache": ({PHP}, "php (keeps $PHPIZE_DEPS)"),  # its php base keeps gcc
    "traefik-v3": (set(), None),
    # JDKs of other vendors, each with its own runtime in the advice:
    "ibm-semeru-runtimes-open-21-jdk": ({JDK, BIG}, "JDK"),  # not the JRE its JAVA_HOME suggested
    "sapmachine-21-jdk": ({JDK, BIG}, "JDK"),  # the JDK is an apt package
    "dart-stable": ({TB, BIG}, "dart"),
    "caddy-builder": ({TB}, "golang"),  # xcaddy on golang:alpine
    "pypy-3-bookworm": ({FL, BIG}, "pypy (full)"),  # not the buildpack-deps it is built on
    "r-base-latest": ({FL, BIG}, "r-base (keeps r-base-dev)"),  # not an app keeping -dev
    "clojure-temurin-21-tools-deps": ({TB}, "clojure (tools.deps)"),  # a build tool, like lein
    "mariadb-11.8-noble": (set(), None),  # packages from MariaDB's repository, no compilers
    "tomcat-11-jre21": (set(), "JRE"),  # tomcat-native built in the JDK variant, copied in
    "ruby-3.4-alpine": (set(), "ruby (alpine)"),  # build deps and the temporary rustup purged
    "docker-dind": (set(), None),  # release binaries of the daemon and CLI plugins, git
    "kong-3.9": (set(), None),  # its .deb (OpenResty, LuaJIT) with git and unzip for plugins
    "tomcat-11-jdk21": ({JDK}, "JDK"),  # advised onto tomcat's own -jre21 variant
    "ibm-semeru-runtimes-open-21-jre": (set(), "JRE"),
    "sapmachine-21-jre": (set(), "JRE"),
    "amazoncorretto-21-al2023-headless": (set(), "JRE"),  # the -headless rpm: no javac, no jmods
}
KNOWLEDGE = Knowledge.default()


def test_every_corpus_case_has_an_expectation() -> None:
    assert set(corpus.names()) <= set(EXPECTED), "add new corpus files to EXPECTED"


@pytest.mark.parametrize("name", sorted(set(EXPECTED) & set(corpus.names())))
def test_corpus_image(name: str) -> None:
    expected_rules, expected_base = EXPECTED[name]
    analysis = analyse(corpus.load(name), KNOWLEDGE)
    assert {f.rule for f in analysis.findings} == expected_rules
    assert (analysis.base.name if analysis.base else None) == expected_base
    assert analysis.compressed_size == corpus.load(name).compressed_size


@pytest.mark.parametrize(
    "name", [n for n, (r, _) in EXPECTED.items() if r & {TB} and n in corpus.names()]
)
def test_toolchain_images_are_deny_level_with_a_saving(name: str) -> None:
    image = corpus.load(name)
    finding = next(f for f in analyse(image, KNOWLEDGE).findings if f.rule == TB)
    assert rules.DEFAULT_ACTIONS[finding.rule] == "deny"
    assert finding.severity is Severity.HIGH
    assert finding.saving is not None
    # over 50 MB, or (composer's 80 MB image) over a third of the image
    assert finding.saving > min(50_000_000, image.compressed_size // 3)
    assert "saves ~" in finding.message
    assert finding.remediation


def test_agrees_with_the_corpus_authors_toolchain_flag() -> None:
    for name in corpus.names():
        said = corpus.raw(name).get("expect", {}).get("toolchain")
        if said is None:
            continue
        found = {f.rule for f in analyse(corpus.load(name), KNOWLEDGE).findings} - {BIG}
        assert bool(found) == said, name


def test_golang_alpine_saving_is_the_sdk_copy_layer() -> None:
    image = corpus.load("golang-1-alpine")
    finding = analyse(image, KNOWLEDGE).findings[0]
    copy_layer = next(
        layer
        for layer in image.layer_history()
        if layer.created_by and "COPY /target/" in layer.created_by
    )
    assert finding.layer == copy_layer.index
    assert finding.saving == copy_layer.size
    assert finding.base is not None
    assert finding.base.method is Method.ENVIRONMENT
    assert finding.base.evidence.startswith("GOLANG_VERSION=")


def test_golang_debian_saving_counts_compilers_scm_and_sdk_layers() -> None:
    image = corpus.load("golang-1-bookworm")
    finding = analyse(image, KNOWLEDGE).findings[0]
    layers = image.layer_history()
    expected = sum(
        layer.size
        for layer in layers
        if layer.created_by
        and (
            "g++" in layer.created_by
            or "mercurial" in layer.created_by
            or "COPY /target/" in layer.created_by
        )
    )
    assert finding.saving == expected


def test_jdk_saving_keeps_a_jre_share() -> None:
    finding = analyse(corpus.load("eclipse-temurin-21-jdk"), KNOWLEDGE).findings[0]
    assert finding.size is not None
    assert finding.saving is not None
    assert finding.saving == int(finding.size * 0.65)
    assert "jre" in (finding.remediation or "")


def test_source_label_becomes_the_finding_source() -> None:
    analysis = analyse(corpus.load("rust-1-bookworm"), KNOWLEDGE)
    assert {f.source for f in analysis.findings} == {"https://github.com/rust-lang/docker-rust"}


def test_every_message_fits_the_warning_budget() -> None:
    for name in corpus.names():
        for finding in analyse(corpus.load(name), KNOWLEDGE).findings:
            assert len(finding.message) <= 94, finding.message
            assert finding.created_by is None or len(finding.created_by) <= 80


@pytest.mark.parametrize(
    ("name", "evidence", "advice"),
    [
        ("perl-5", "builds perl from its CPAN release", "perl:*-slim"),
        ("haskell-9", "installs GHC from its binary release", "debian-slim"),
    ],
)
def test_a_base_told_by_its_history_names_its_own_evidence(
    name: str, evidence: str, advice: str
) -> None:
    analysis = analyse(corpus.load(name), KNOWLEDGE)
    assert analysis.base is not None
    assert analysis.base.method is Method.HISTORY
    assert analysis.base.evidence.endswith(evidence)
    assert "buildpack-deps" not in analysis.base.evidence
    assert advice in analysis.findings[0].message


def test_pypy_is_a_full_language_base_with_its_own_slim_advice() -> None:
    finding = analyse(corpus.load("pypy-3-bookworm"), KNOWLEDGE).findings[0]
    assert finding.rule == FL
    assert rules.DEFAULT_ACTIONS[finding.rule] == "warn"
    assert "pypy:*-slim" in finding.message
    assert finding.base is not None
    assert "buildpack-deps" not in finding.base.evidence


def test_r_base_keeps_its_compilers_for_packages_with_r_in_the_same_layer() -> None:
    """r-base installs R and r-base-dev (gcc, g++, gfortran) in one step so that packages
    compile: a full language base to warn about, not 691 MB of kept -dev packages to deny.
    The layer is R itself as much as its compilers, so no saving is claimed."""
    image = corpus.load("r-base-latest")
    finding = analyse(image, KNOWLEDGE).findings[0]
    assert finding.rule == FL
    assert TI not in {f.rule for f in analyse(image, KNOWLEDGE).findings}
    r_layer = next(
        layer for layer in image.layer_history() if "r-base-dev" in (layer.created_by or "")
    )
    assert finding.layer == r_layer.index
    assert finding.saving is None
    assert "saves" not in finding.message
    assert "/usr/local/lib/R/site-library" in (finding.remediation or "")


def test_the_clojure_cli_image_is_a_build_tool_like_leiningen() -> None:
    """clojure:*-tools-deps keeps make and git with the Clojure CLI on a JDK copied from
    eclipse-temurin: one toolchain-base finding with the uberjar advice, not a JRE base
    with a kept make and a copied JDK."""
    findings = analyse(corpus.load("clojure-temurin-21-tools-deps"), KNOWLEDGE).findings
    assert [f.rule for f in findings] == [TB]
    assert "uberjar" in findings[0].message


@pytest.mark.parametrize(
    ("name", "jdk_step"),
    [
        ("maven-3-eclipse-temurin-21", "OpenJDK21U-jdk_"),
        ("gradle-jdk21", "OpenJDK21U-jdk_"),
        ("clojure-temurin-21-lein", "COPY /opt/java/openjdk "),
        ("clojure-temurin-21-tools-deps", "COPY /opt/java/openjdk "),
    ],
)
def test_a_build_tools_saving_keeps_the_jre_its_advice_runs_on(name: str, jdk_step: str) -> None:
    """The advice runs the jar on a JRE, so the build tool's JDK layer is saved less the
    JRE's share of it (a third, as for a JDK base); its other layers are saved whole."""
    image = corpus.load(name)
    finding = next(f for f in analyse(image, KNOWLEDGE).findings if f.rule == TB)
    jdk = next(layer for layer in image.layer_history() if jdk_step in (layer.created_by or ""))
    assert finding.size is not None
    assert finding.saving is not None
    assert abs(finding.saving - (finding.size - jdk.size * 0.35)) <= 1


def test_erlang_and_elixir_are_told_from_a_broker_that_copies_erlang_in() -> None:
    for name in ("erlang-27", "elixir-1.18"):
        finding = analyse(corpus.load(name), KNOWLEDGE).findings[0]
        assert finding.rule == FL
        assert "release" in finding.message
        # the OTP build step is the base's own: its -dev runtime package is no separate finding
        assert TI not in {f.rule for f in analyse(corpus.load(name), KNOWLEDGE).findings}
    assert analyse(corpus.load("rabbitmq-4"), KNOWLEDGE).base is None


def test_a_base_step_between_two_of_its_own_belongs_to_the_base() -> None:
    """gradle:jdk21 installs make, git and hg between GRADLE_HOME and its download, in the
    same build minutes apart: that layer is the base's, not a finding of its own, and the
    saving counts it with the JDK and the Gradle distribution."""
    image = corpus.load("gradle-jdk21")
    findings = analyse(image, KNOWLEDGE).findings
    assert [f.rule for f in findings] == [TB]
    layers = image.layer_history()
    carried = sum(
        layer.size
        for layer in layers
        if layer.created_by
        and any(
            marker in layer.created_by
            for marker in ("OpenJDK21U-jdk_", "git-lfs", "gradle-${GRADLE_VERSION}-bin.zip")
        )
    )
    assert findings[0].size == carried


def test_an_application_step_after_a_base_stays_the_applications() -> None:
    """Steps built later than the base (an application's) are not absorbed into it, even
    when a later step matches the base's own patterns."""
    base = corpus.load("gradle-jdk21")
    image = corpus.extend(
        base,
        [("RUN /bin/sh -c apt-get install -y gcc", 40_000_000), ("ENV GRADLE_OPTS=-Xmx1g", None)],
    )
    built_later = tuple(
        replace(entry, created="2026-09-30T10:00:00Z") if i >= len(base.config.history) else entry
        for i, entry in enumerate(image.config.history)
    )
    image = replace(image, config=replace(image.config, history=built_later))
    rules_found = {f.rule for f in analyse(image, KNOWLEDGE).findings}
    assert TI in rules_found


def test_a_jdk_installed_from_rpms_names_its_layer_and_saving() -> None:
    """amazoncorretto:21 installs its -devel and -jmods rpms with dnf from local files."""
    image = corpus.load("amazoncorretto-21")
    finding = analyse(image, KNOWLEDGE).findings[0]
    assert finding.rule == JDK
    assert finding.layer == 1
    assert finding.saving == int(image.layers[1].size * 0.48)  # its -headless rpm keeps 52 %
    assert "saves ~" in finding.message


def test_swift_counts_its_toolchain_release_not_only_the_headers() -> None:
    image = corpus.load("swift-6.0")
    finding = analyse(image, KNOWLEDGE).findings[0]
    assert finding.rule == TB
    assert finding.saving is not None
    assert finding.saving > sum(layer.size for layer in image.layers[1:3]) * 0.99


def test_one_time_on_every_history_entry_tells_no_builds_apart() -> None:
    """A tool that stamps every entry alike says nothing about which build made a step: an
    application's build step after gradle's own steps stays the application's."""
    base = corpus.load("gradle-jdk21")
    image = corpus.extend(
        base,
        [("RUN /bin/sh -c apt-get install -y gcc", 40_000_000), ("ENV GRADLE_OPTS=-Xmx1g", None)],
    )
    same_time = tuple(
        replace(entry, created="2024-01-01T00:00:00Z") for entry in image.config.history
    )
    image = replace(image, config=replace(image.config, history=same_time))
    assert TI in {f.rule for f in analyse(image, KNOWLEDGE).findings}


@pytest.mark.parametrize(
    ("name", "runtime", "advice"),
    [
        ("eclipse-temurin-21-jdk", "eclipse-temurin-21-jre", "eclipse-temurin:*-jre"),
        (
            "ibm-semeru-runtimes-open-21-jdk",
            "ibm-semeru-runtimes-open-21-jre",
            "ibm-semeru-runtimes:open-*-jre",
        ),
        ("sapmachine-21-jdk", "sapmachine-21-jre", "sapmachine:*-jre"),
        # Corretto 11 and later publish no JRE image: its own runtime-only image, or jlink
        (
            "amazoncorretto-21",
            "amazoncorretto-21-al2023-headless",
            "amazoncorretto:*-al2023-headless or a jlink runtime",
        ),
        # an application published with a JRE variant of its own: that variant
        ("tomcat-11-jdk21", "tomcat-11-jre21", "tomcat:*-jre<N>"),
    ],
)
def test_a_jdk_is_told_to_run_on_its_own_vendors_runtime(
    name: str, runtime: str, advice: str
) -> None:
    """The advice names the vendor's own runtime image, and the saving is the JDK layer less
    what that runtime's layer keeps of it (within 2 % of the JDK layer, the table's rounding)."""
    image = corpus.load(name)
    finding = analyse(image, KNOWLEDGE).findings[0]
    assert finding.rule == JDK
    assert advice in finding.message
    assert "eclipse-temurin" not in finding.message or name.startswith("eclipse-temurin")
    assert finding.layer is not None
    jdk_layer = image.layers[finding.layer].size
    runtime_layer = max(layer.size for layer in corpus.load(runtime).layers[1:])  # not the OS
    assert finding.saving is not None
    assert abs(finding.saving - (jdk_layer - runtime_layer)) < 0.02 * jdk_layer
    assert analyse(corpus.load(runtime), KNOWLEDGE).findings == ()


def test_an_early_access_jdk_archive_is_a_jdk_with_its_layer_and_saving() -> None:
    """The openjdk image now carries early-access builds only; their archive is named
    openjdk-24-ea+16_linux-x64_bin.tar.gz (as repo-info records openjdk:24-ea-16-jdk)."""
    install = (
        "RUN set -eux; downloadUrl='https://download.java.net/java/early_access/jdk24/16/GPL/"
        'openjdk-24-ea+16_linux-x64_bin.tar.gz\'; wget -O openjdk.tgz "$downloadUrl"; '
        'tar --extract --file openjdk.tgz --directory "$JAVA_HOME" --strip-components 1 # buildkit'
    )
    image = corpus.extend(
        corpus.load("debian-bookworm"),
        [("ENV JAVA_HOME=/usr/local/openjdk-24", None), (install, 212_009_443)],
        env=("JAVA_HOME=/usr/local/openjdk-24",),
    )
    finding = analyse(image, KNOWLEDGE).findings[0]
    assert finding.rule == JDK
    assert finding.layer == len(image.layers) - 1
    assert finding.saving == int(212_009_443 * 0.65)


def test_a_release_keeps_the_runtime_so_it_is_not_counted_as_saved() -> None:
    """rebar3 and mix releases bundle ERTS: the OTP (and elixir) build layers stay in the
    fixed image, so erlang's and elixir's savings are the compiler and version-control
    layers of buildpack-deps alone."""
    for name in ("erlang-27", "elixir-1.18"):
        image = corpus.load(name)
        finding = analyse(image, KNOWLEDGE).findings[0]
        layers = image.layer_history()
        otp = next(layer for layer in layers if "OTP_DOWNLOAD_URL" in (layer.created_by or ""))
        compilers = next(layer for layer in layers if "g++" in (layer.created_by or ""))
        scm = next(layer for layer in layers if "mercurial" in (layer.created_by or ""))
        assert finding.layer == compilers.index != otp.index
        assert finding.saving == compilers.size + scm.size


def test_composer_is_a_build_tool_image_not_an_application_keeping_make() -> None:
    image = corpus.load("composer-2")
    findings = analyse(image, KNOWLEDGE).findings
    assert [f.rule for f in findings] == [TB]
    finding = findings[0]
    assert finding.base is not None
    assert finding.base.name == "composer"
    assert "vendor/" in finding.message
    assert "COPY --from=build /app/vendor" in (finding.remediation or "")
    layers = image.layer_history()
    carried = sum(
        layer.size
        for layer in layers
        if layer.created_by
        and ("mercurial" in layer.created_by or "--filename=composer" in layer.created_by)
    )
    assert finding.saving == carried


def test_dart_is_an_sdk_image_with_the_aot_advice() -> None:
    image = corpus.load("dart-stable")
    finding = next(f for f in analyse(image, KNOWLEDGE).findings if f.rule == TB)
    sdk = next(layer for layer in image.layer_history() if "dartsdk-" in (layer.created_by or ""))
    assert finding.layer == sdk.index
    assert "dart compile exe" in finding.message
    assert "/runtime/" in (finding.remediation or "")
