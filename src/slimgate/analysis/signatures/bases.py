"""Official base images recognised by their environment, history and references, as data.

Each row says how to recognise one family of images (the env names its official
Dockerfile sets, the history it leaves), which steps are its own (so the analysis knows
where an application's layers begin), which of its layers carry the SDK (for the saving),
and when it is a finding: ``ALWAYS`` (golang, rust...), ``KEPT_TOOLCHAIN`` (the full
node/python/ruby images on buildpack-deps, php with ``$PHPIZE_DEPS`` installed) or
``HISTORY`` (a JDK rather than a JRE). Rows are tried in order; the more specific come
first (maven before the JDK it is built on). Patterns are regular expressions searched
in ``"<INSTRUCTION> <body>"`` of a history step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from slimgate.analysis import rules


class Condition(Enum):
    ALWAYS = "always"
    KEPT_TOOLCHAIN = "kept-toolchain"  # the base's own layers keep compilers
    HISTORY = "history"  # a step of the base matches one of ``history``


@dataclass(frozen=True, slots=True)
class BaseSignature:
    family: str  # "golang"
    ecosystem: str  # "go", "java", ... (also the remediation key unless ``remedy`` is set)
    rule: str
    condition: Condition
    name: str  # display name when the rule applies: "golang", "node (full)", "JDK"
    clean_name: str  # display name when it does not: "node (slim)", "JRE"
    env: tuple[str, ...] = ()  # all must be set; the first is the anchor
    history: tuple[str, ...] = ()
    own: tuple[str, ...] = ()
    sdk: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    # Regular expressions: a tag one of them matches is the clean variant ("slim", "jre")
    clean_tags: tuple[str, ...] = ()
    # Regular expressions: when set, the row claims its repositories only for a tag one of
    # them matches (clojure's tools-deps tags; its other tags are leiningen's row)
    tags: tuple[str, ...] = ()
    remedy: str = ""  # remediation key when it differs from the ecosystem
    # Repositories outside Docker Hub's library, as regular expressions over the whole path
    # (``registry.access.redhat.com/ubi9/openjdk-17``); a clean marker may then be in the
    # repository's last segment (``openjdk-17-runtime``, ``chainguard/jre``).
    repository_patterns: tuple[str, ...] = ()
    # What the anchor step shows when the row is told by its history alone (no ``env``):
    # the finding's evidence reads "step <n> <evidence>".
    evidence: str = ""
    # Plain text every step a ``history`` anchor matches contains: a substring test rules
    # the other steps out before any regular expression runs.
    marker: str = ""
    # Steps that install the language runtime the remedy's image still carries (a release
    # built with ``mix release`` or rebar3 bundles ERTS): not counted in the saving.
    runtime: tuple[str, ...] = ()
    # Steps whose layer is a JDK that the fix replaces with a JRE (maven, gradle, lein):
    # counted in the saving less the JRE's share of it, as for a JDK base.
    jdk: tuple[str, ...] = ()

    @property
    def remedy_key(self) -> str:
        return self.remedy or self.ecosystem


# A JDK's apt package (openjdk-17-jdk, sapmachine-21-jdk, temurin-21-jdk, zulu21-jdk), found
# from its "-jdk" so that the search can skip to that text (fixed-width look-behinds).
_JDK_PACKAGE = (
    r"-jdk\b(?:"
    + "|".join(
        f"(?<={name}{digits}-jdk)"
        for name in ("openjdk-", "sapmachine-", "temurin-", "zulu", "zulu-")
        for digits in (r"\d", r"\d\d")
    )
    + ")"
)

# Each pattern starts with plain text (a word boundary is checked behind it), which lets
# the search skip ahead: these run over every step of every image that sets JAVA_HOME.
_JDK_MARKERS = (
    r"OpenJDK\d+U-jdk_",
    r"javac(?<=\bjavac)\b",
    r"jshell(?<=\bjshell)\b",
    r"openjdk-[\d.]+(?:-ea)?(?:\+\d+)?_linux-\S+_bin\.tar\.gz",  # and openjdk's early access
    r"openjdk-\d+-jdk",
    r"amazon-corretto-\d+-\S*-jdk|java-\S+-amazon-corretto-devel",
    r"ibm-semeru-open-jdk_",  # Semeru's JDK archive (its JRE is ibm-semeru-open-jre_)
    _JDK_PACKAGE,
)

# Applications published on a JDK and on a JRE variant of their own: the variable their
# image sets, their repository, and the remediation key that names that variant.
JDK_APPLICATIONS: tuple[tuple[str, str, str], ...] = (("CATALINA_HOME", "tomcat", "jdk-tomcat"),)

# The remediation key of a JDK vendor whose own JRE (or runtime-only image) is not
# Temurin's, searched in the base's reference, its JAVA_HOME and its JDK step.
JDK_VENDORS: tuple[tuple[str, str], ...] = (
    (r"amazon-?corretto", "jdk-corretto"),
    (r"sapmachine", "jdk-sapmachine"),
    (r"ibm-semeru", "jdk-semeru"),
)

BASE_SIGNATURES: tuple[BaseSignature, ...] = (
    BaseSignature(
        "maven",
        "java",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "maven",
        "maven",
        env=("MAVEN_HOME",),
        own=(r"MAVEN_", r"/usr/share/maven", r"mvn-entrypoint", r"/usr/bin/mvn"),
        sdk=(r"/usr/share/maven", r"apache-maven-\S+-bin", *_JDK_MARKERS[:1]),
        jdk=_JDK_MARKERS[:1],
        repositories=("maven",),
        repository_patterns=(r"cgr\.dev/[^/]+/maven",),
    ),
    BaseSignature(
        "gradle",
        "java",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "gradle",
        "gradle",
        env=("GRADLE_HOME",),
        own=(r"GRADLE_", r"gradle"),
        sdk=(r"gradle-\S+-bin\.zip", r"/opt/gradle", *_JDK_MARKERS[:1]),
        jdk=_JDK_MARKERS[:1],
        repositories=("gradle",),
        repository_patterns=(r"cgr\.dev/[^/]+/gradle",),
    ),
    BaseSignature(  # clojure:*-tools-deps: the Clojure CLI on a JDK copied from eclipse-temurin
        "clojure",
        "java",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "clojure (tools.deps)",
        "clojure (tools.deps)",
        env=("CLOJURE_VERSION",),
        own=(
            r"CLOJURE_",
            r"download\.clojure\.org|linux-install-",
            r"\brlwrap\b",
            r"^COPY entrypoint ",
            r"^WORKDIR /tmp$",
        ),
        sdk=(r"linux-install-", r"/opt/java/openjdk"),
        jdk=(r"^COPY /opt/java/openjdk ",),
        repositories=("clojure",),
        tags=(r"tools-deps",),
        remedy="clojure",
    ),
    BaseSignature(  # clojure:*-lein: Leiningen built on a JDK copied from eclipse-temurin
        "leiningen",
        "java",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "leiningen",
        "leiningen",
        env=("LEIN_VERSION",),
        own=(r"LEIN_", r"\blein\b", r"leiningen", r"^COPY entrypoint "),
        sdk=(r"leiningen", r"\blein deps\b", r"/opt/java/openjdk"),
        jdk=(r"^COPY /opt/java/openjdk ",),
        repositories=("clojure",),
        remedy="clojure",
    ),
    BaseSignature(
        "golang",
        "go",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "golang",
        "golang",
        env=("GOLANG_VERSION",),
        own=(
            r"GOLANG_VERSION",
            r"^ENV GOPATH",
            r"mkdir -p \"\$GOPATH/src\"",
            r"GOTOOLCHAIN",
            r"/usr/local/go\b",
            r"^COPY /target/ /$",
            r"dl\.google\.com/go|go\.dev/dl",
            r"^WORKDIR /go$",
        ),
        sdk=(r"^COPY /target/ /$", r"/usr/local/go\b", r"dl\.google\.com/go|go\.dev/dl"),
        repositories=("golang",),
        repository_patterns=(r"cgr\.dev/[^/]+/go",),
    ),
    BaseSignature(
        "rust",
        "rust",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "rust",
        "rust",
        env=("RUSTUP_HOME", "CARGO_HOME"),
        own=(r"RUSTUP_HOME", r"CARGO_HOME", r"RUST_VERSION", r"rustup"),
        sdk=(r"rustup-init", r"RUST_VERSION"),
        repositories=("rust",),
        repository_patterns=(r"cgr\.dev/[^/]+/rust",),
    ),
    BaseSignature(
        "gcc",
        "c",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "gcc",
        "gcc",
        env=("GCC_VERSION",),
        own=(r"GCC_", r"\bgcc\b", r"ld\.so\.conf", r"dpkg-divert"),
        sdk=(r"GCC_VERSION",),
        repositories=("gcc",),
        repository_patterns=(r"cgr\.dev/[^/]+/gcc-glibc",),
    ),
    BaseSignature(
        "dotnet-sdk",
        "dotnet",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "dotnet sdk",
        "dotnet sdk",
        env=("DOTNET_SDK_VERSION",),
        own=(r"DOTNET_", r"ASPNET", r"dotnet", r"powershell", r"NUGET"),
        sdk=(r"dotnet", r"powershell"),
        repositories=("mcr.microsoft.com/dotnet/sdk",),
        repository_patterns=(r"cgr\.dev/[^/]+/dotnet-sdk",),
    ),
    BaseSignature(  # the composer image: php (alpine) with composer, git, hg, svn and make
        "composer",
        "composer",  # not "php": its fix is a composer stage, not php's extension build
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "composer",
        "composer",
        env=("COMPOSER_VERSION", "COMPOSER_HOME"),
        own=(
            r"COMPOSER_",
            r"getcomposer\.org|--filename=composer",
            r"^COPY docker-entrypoint\.sh ",
            r"^WORKDIR /app$",
        ),
        sdk=(r"--filename=composer",),
        repositories=("composer",),
    ),
    BaseSignature(  # the Dart SDK; its /runtime/ holds what an AOT executable needs
        "dart",
        "dart",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "dart",
        "dart",
        env=("DART_SDK",),
        own=(r"DART_SDK", r"dart(?:-archive|sdk-)", r"^ENV PATH=\S*/dart/bin", r"^WORKDIR /root$"),
        sdk=(r"dart(?:-archive|sdk-)",),
        repositories=("dart",),
    ),
    BaseSignature(
        "php",
        "php",
        rules.PHP_EXTENSION_TOOLCHAIN,
        Condition.KEPT_TOOLCHAIN,
        "php (keeps $PHPIZE_DEPS)",
        "php",
        env=("PHPIZE_DEPS",),
        own=(r"PHP", r"docker-php-", r"/usr/src/php", r"/usr/local/etc/php", r"STOPSIGNAL"),
        repositories=("php", "wordpress"),  # wordpress is built FROM php
        clean_tags=("alpine",),
    ),
    BaseSignature(  # named by reference only (a FROM line): images are told by their labels
        "ubi-openjdk",
        "java",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "UBI OpenJDK (JDK, s2i builder)",
        "UBI OpenJDK runtime",
        clean_tags=("runtime",),
        remedy="s2i-java",
        repository_patterns=(r"(?:.+/)?ubi\d*/openjdk-\d+(?:-runtime)?",),
    ),
    # Named by reference only, as above: sclorg's s2i language images are built on s2i-base,
    # which installs gcc-c++, make, autoconf and -devel headers (sclorg/s2i-base-container
    # base/Dockerfile); their -minimal variants are not.
    BaseSignature(
        "ubi-s2i-python",
        "python",
        rules.FULL_LANGUAGE_BASE,
        Condition.ALWAYS,
        "UBI python (s2i builder: gcc, make, -devel)",
        "UBI python minimal",
        clean_tags=("minimal",),
        repository_patterns=(r"(?:.+/)?(?:ubi|rhel)\d*/python-\d+(?:-minimal)?",),
    ),
    BaseSignature(
        "ubi-s2i-nodejs",
        "node",
        rules.FULL_LANGUAGE_BASE,
        Condition.ALWAYS,
        "UBI nodejs (s2i builder: gcc, make, -devel)",
        "UBI nodejs minimal",
        clean_tags=("minimal",),
        repository_patterns=(r"(?:.+/)?(?:ubi|rhel)\d*/nodejs-\d+(?:-minimal)?",),
    ),
    BaseSignature(
        "java",
        "java",
        rules.JDK_RUNTIME,
        Condition.HISTORY,
        "JDK",
        "JRE",
        env=("JAVA_HOME",),
        history=_JDK_MARKERS,
        own=(
            r"JAVA_",
            r"openjdk",
            r"\bjava\b",
            r"__cacert_entrypoint",
            r"jshell",
            r"^ENV LANG",
            r"fontconfig|p11-kit|locale-gen",
        ),
        # the JDK's archive or packages, not the javac/jshell checks after it
        sdk=_JDK_MARKERS[:1] + _JDK_MARKERS[3:],
        # tomcat's unsuffixed tags and java:8 (openjdk:8's old alias) are JDK images.
        repositories=(
            "eclipse-temurin",
            "openjdk",
            "amazoncorretto",
            "sapmachine",
            "ibm-semeru-runtimes",
            "tomcat",
            "java",
        ),
        # Corretto's headless and headful tags install its JRE packages, no -devel
        # (corretto/corretto-docker 21/headless/al2023/Dockerfile@137b6ef02877);
        # sapmachine:21-jdk-headless is a JDK without its GUI libraries
        clean_tags=("jre", r"^(?!.*jdk).*(?:headless|headful)"),
        remedy="jdk",
        # the Microsoft Build of OpenJDK ships JDK images only, distroless ones included
        repository_patterns=(r"cgr\.dev/[^/]+/(?:jdk|jre)", r"mcr\.microsoft\.com/openjdk/jdk"),
    ),
    BaseSignature(
        "node",
        "node",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "node (full)",
        "node (slim)",
        env=("NODE_VERSION",),
        own=(r"NODE_VERSION", r"YARN_VERSION", r"nodejs\.org", r"yarnpkg", r"docker-entrypoint"),
        repositories=("node",),
        clean_tags=("slim", "alpine"),
    ),
    BaseSignature(
        "python",
        "python",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "python (full)",
        "python (slim)",
        env=("PYTHON_VERSION",),
        own=(
            r"PYTHON_",
            r"python\.org",
            r"get-pip",
            r"idle3|pydoc3|python3-config",
            r"^ENV (?:LANG|GPG_KEY|PATH)",
        ),
        repositories=("python",),
        clean_tags=("slim", "alpine"),
    ),
    BaseSignature(  # pypy is built like python: buildpack-deps, or -slim that purges
        "pypy",
        "python",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "pypy (full)",
        "pypy (slim)",
        env=("PYPY_VERSION",),
        own=(r"PYPY_", r"/pypy/|pypy3?\b", r"^ENV (?:LANG|PATH)"),
        repositories=("pypy",),
        clean_tags=("slim",),
        remedy="pypy",
    ),
    BaseSignature(
        "ruby",
        "ruby",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "ruby (full)",
        "ruby (slim)",
        env=("RUBY_VERSION",),
        own=(r"RUBY_", r"ruby-lang\.org", r"GEM_HOME", r"BUNDLE_(?:SILENCE|APP_CONFIG)", r"LANG"),
        repositories=("ruby",),
        clean_tags=("slim", "alpine"),
    ),
    BaseSignature(  # swift:*-slim sets the same environment but keeps no headers
        "swift",
        "swift",
        rules.TOOLCHAIN_BASE,
        Condition.KEPT_TOOLCHAIN,
        "swift",
        "swift (slim)",
        env=("SWIFT_VERSION", "SWIFT_PLATFORM"),
        own=(r"SWIFT_", r"\bswift --version\b"),
        sdk=(r"download\.swift\.org|\$SWIFT_WEBROOT", r"swift\.tar\.gz"),
        repositories=("swift",),
        clean_tags=("slim",),
    ),
    BaseSignature(  # elixir is built FROM erlang, so it comes first
        "elixir",
        "erlang",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "elixir (full)",
        "elixir (slim)",
        env=("ELIXIR_VERSION",),
        own=(r"ELIXIR_", r"elixir-lang", r"^CMD \[\"iex\"\]"),
        repositories=("elixir",),
        clean_tags=("slim", "alpine"),
        runtime=(r"OTP_DOWNLOAD_URL|otp_src", r"ELIXIR_DOWNLOAD_URL"),
    ),
    BaseSignature(
        "erlang",
        "erlang",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "erlang (full)",
        "erlang (slim)",
        env=("OTP_VERSION", "REBAR3_VERSION"),
        own=(r"OTP_", r"REBAR", r"rebar3?-src", r"^CMD \[\"erl\"\]"),
        repositories=("erlang",),
        clean_tags=("slim", "alpine"),
        runtime=(r"OTP_DOWNLOAD_URL|otp_src",),
    ),
    BaseSignature(  # r-base keeps r-base-dev (gcc, gfortran) so that R packages compile
        "R",
        "r",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "r-base (keeps r-base-dev)",
        "r-base",
        env=("R_BASE_VERSION",),
        own=(r"R_BASE_VERSION", r"\br-base\b", r"littler", r"^CMD \[\"R\"\]"),
        repositories=("r-base",),
        # R itself arrives in the step that keeps r-base-dev: no layer is the compilers alone
        runtime=(r"\br-base-core\b",),
    ),
    BaseSignature(  # perl sets no environment: its release build is the evidence
        "perl",
        "perl",
        rules.FULL_LANGUAGE_BASE,
        Condition.KEPT_TOOLCHAIN,
        "perl (full)",
        "perl (slim)",
        history=(r"cpan\.org/\S*/perl-5\.[\d.]+\.tar\.",),
        own=(r"^WORKDIR /usr/src/app$", r"cpanm|cpm\b"),
        repositories=("perl",),
        clean_tags=("slim",),
        evidence="builds perl from its CPAN release",
        marker="/perl-5.",
    ),
    BaseSignature(  # haskell passes its versions as ARGs: GHC's binary release is the evidence
        "haskell",
        "haskell",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "haskell (ghc)",
        "haskell (ghc)",
        history=(r"downloads\.haskell\.org/~ghc/",),
        own=(r"/opt/ghc/", r"^CMD \[\"ghci\"\]"),
        sdk=(r"downloads\.haskell\.org", r"commercialhaskell/stack"),
        repositories=("haskell",),
        evidence="installs GHC from its binary release",
        marker="downloads.haskell.org/~ghc/",
    ),
    BaseSignature(
        "buildpack-deps",
        "c",
        rules.TOOLCHAIN_BASE,
        Condition.ALWAYS,
        "buildpack-deps",
        "buildpack-deps",
        history=(r"apt-get install(?=[^;&|]*\blibmagickwand-dev\b)(?=[^;&|]*\bgcc\b)",),
        repositories=("buildpack-deps",),
        clean_tags=("curl", "scm"),
        evidence="installs the buildpack-deps compiler set",
        marker="libmagickwand-dev",
    ),
)


# Environment a base image defines that Dockerfiles built on it use (``apk add
# $PHPIZE_DEPS``): lint expands these from what the FROM line names, by family and by the
# first variant marker found in the tag. From docker-library/php's Dockerfile templates
# (Debian and Alpine variants); the tabs of the real value do not matter to the shell.
BASE_ENV: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("php", ""): (("PHPIZE_DEPS", "autoconf dpkg-dev file g++ gcc libc-dev make pkg-config re2c"),),
    ("php", "alpine"): (
        ("PHPIZE_DEPS", "autoconf dpkg-dev dpkg file g++ gcc libc-dev make pkgconf re2c"),
    ),
}
