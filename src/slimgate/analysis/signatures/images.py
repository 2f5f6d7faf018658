"""Images recognised by what their builder writes into the config, as data.

Images built without a Dockerfile (buildpacks, apko, cekit/OSBS for UBI) have no
``created_by`` worth reading: the evidence is in labels, the environment and the
entrypoint. Each row names what must hold (every ``labels`` pattern, every ``env`` name,
no ``env_absent`` name, the entrypoint or command program) and what the image is. Rows are
tried in order; the first that holds wins, so the specific rows (a ``-minimal`` s2i image,
a JRE) sit above the general ones. ``rule`` None is a recognised clean image: naming it
keeps a weaker signature (``JAVA_HOME``) from guessing.

Sources, one line each (repository, path, commit):

* buildpacks/pack ``internal/builder/builder.go`` @7640af99: builder label
  ``io.buildpacks.builder.metadata``, env ``CNB_USER_ID``/``CNB_GROUP_ID``.
* paketo-buildpacks/jam ``internal/ihop/creator.go`` @d7a6fd6c: ``io.buildpacks.stack.*``
  labels on build and run images; ``CNB_USER_ID``, ``CNB_GROUP_ID``, ``CNB_STACK_ID`` only
  on the build image.
* chainguard-dev/apko ``pkg/build/oci/image.go`` @d1b5d5ec and chainguard-images/images
  ``images/*/locked_config.json`` @cd7edd23: ``org.opencontainers.image.title`` is the image
  name (``go``, ``jdk``, ``jre``...), ``org.opencontainers.image.vendor: Chainguard``.
* sclorg/s2i-base-container @cada84e6, sclorg/s2i-python-container @e007f85c:
  ``io.openshift.s2i.scripts-url``, ``io.openshift.tags`` with ``builder``, ``name``
  ``ubi9/python-312`` (``-minimal`` variants are FROM ubi-minimal without compilers).
* rh-openjdk/redhat-openjdk-containers @7b635be6: ``name`` ``ubi9/openjdk-17`` (JDK, s2i
  builder with Maven) vs ``ubi9/openjdk-17-runtime`` (JRE).
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis import rules

TB, JDK = rules.TOOLCHAIN_BASE, rules.JDK_RUNTIME


@dataclass(frozen=True, slots=True)
class ImageSignature:
    name: str  # "Chainguard go", "buildpacks builder"
    ecosystem: str
    rule: str | None  # None: recognised and clean
    builder: str  # "apko", "buildpacks", "s2i", "config"
    labels: tuple[tuple[str, str], ...] = ()  # (label, regular expression fully matched)
    env: tuple[str, ...] = ()  # names that must be set
    env_absent: tuple[str, ...] = ()  # names that must not be set
    env_values: tuple[tuple[str, str], ...] = ()  # (name, regular expression fully matched)
    program: str = ""  # regular expression fully matching the entrypoint (or cmd) program
    remedy: str = ""  # remediation key; the ecosystem's when empty
    whole_image: bool = True  # every layer is the toolchain (no history says which)


_CHAINGUARD = ("org.opencontainers.image.vendor", r"Chainguard.*")
_TITLE = "org.opencontainers.image.title"
_S2I = ("io.openshift.s2i.scripts-url", r".+")


def _cg(title: str, ecosystem: str, rule: str | None, remedy: str = "") -> ImageSignature:
    return ImageSignature(
        f"Chainguard {title}",
        ecosystem,
        rule,
        "apko",
        labels=(_CHAINGUARD, (_TITLE, title)),
        remedy=remedy or (f"apko-{ecosystem}" if rule else ""),
    )


IMAGE_SIGNATURES: tuple[ImageSignature, ...] = (
    # Cloud Native Buildpacks: the builder (lifecycle + buildpacks + build image), the
    # stack's build image (compilers), the run image (clean).
    ImageSignature(
        "buildpacks builder",
        "buildpacks",
        TB,
        "buildpacks",
        labels=(("io.buildpacks.builder.metadata", r".+"),),
        remedy="buildpacks",
    ),
    # s2i and UBI before buildpacks: sclorg images also set CNB_* and io.buildpacks.stack.id.
    ImageSignature(
        "UBI OpenJDK runtime",
        "java",
        None,
        "s2i",
        labels=(("name", r"(?:.+/)?ubi\d*/openjdk-\d+-runtime"),),
    ),
    ImageSignature(
        "UBI OpenJDK (JDK, s2i builder)",
        "java",
        TB,
        "s2i",
        labels=(("name", r"(?:.+/)?ubi\d*/openjdk-\d+"),),
        remedy="s2i-java",
    ),
    ImageSignature(
        "s2i minimal image",
        "s2i",
        None,
        "s2i",
        labels=(("name", r".+-minimal(?:-\w+)?"), _S2I),
    ),
    ImageSignature(
        "s2i builder",
        "s2i",
        TB,
        "s2i",
        labels=(_S2I, ("io.openshift.tags", r"(?:.*,)?\s*builder\s*(?:,.*)?")),
        remedy="s2i",
    ),
    ImageSignature(
        "buildpacks build image",
        "buildpacks",
        TB,
        "buildpacks",
        labels=(("io.buildpacks.stack.id", r".+"),),
        env=("CNB_STACK_ID",),
        env_absent=("CNB_APP_DIR", "CNB_LAYERS_DIR"),
        remedy="buildpacks",
    ),
    ImageSignature(
        "buildpacks build image",
        "buildpacks",
        TB,
        "buildpacks",
        labels=(("io.buildpacks.stack.id", r".+"),),
        env=("CNB_USER_ID", "CNB_GROUP_ID"),
        env_absent=("CNB_APP_DIR", "CNB_LAYERS_DIR"),
        remedy="buildpacks",
    ),
    # The openjdk:8 images (and their pre-2017 alias java:8) set JAVA_HOME to the JDK's
    # directory; the -jre tags to its jre/ subdirectory (docker-library/openjdk, 2016-2017).
    ImageSignature(
        "openjdk:8 JDK",
        "java",
        JDK,
        "docker-library",
        env=("JAVA_DEBIAN_VERSION",),
        env_values=(("JAVA_HOME", r"/usr/lib/jvm/java-8-openjdk-[a-z0-9]+/?"),),
        remedy="jdk",
        whole_image=False,
    ),
    # Chainguard images by title (the image's name in chainguard-images/images).
    _cg("jre", "java", None),
    _cg("jdk", "java", JDK, "apko-jdk"),
    _cg("maven", "java", TB),
    _cg("gradle", "java", TB),
    _cg("go", "go", TB),
    _cg("gcc-glibc", "c", TB),
    _cg("rust", "rust", TB),
    _cg("dotnet-sdk", "dotnet", TB),
    _cg("clang", "c", TB),
    _cg("zig", "c", TB),
    # Any image whose entrypoint (or command) is a compiler or build tool runs a toolchain,
    # whoever built it: apko images without labels, ``ENTRYPOINT ["go", "run", "."]``.
    ImageSignature("go toolchain", "go", TB, "config", program=r"go"),
    ImageSignature("rust toolchain", "rust", TB, "config", program=r"rustc|cargo"),
    ImageSignature("C compiler", "c", TB, "config", program=r"(?:gcc|g\+\+|cc|clang|clang\+\+)"),
    ImageSignature("JDK (javac)", "java", JDK, "config", program=r"javac|jshell", remedy="jdk"),
    ImageSignature("maven", "java", TB, "config", program=r"mvn|mvnw"),
    ImageSignature("gradle", "java", TB, "config", program=r"gradle|gradlew"),
    ImageSignature(
        "dotnet sdk", "dotnet", TB, "config", env=("DOTNET_SDK_VERSION",), program=r"dotnet"
    ),
)

# Programs a JRE image runs: a Java image with one of these as entrypoint and no title or
# history naming a JDK is reported as "cannot tell", not as a JDK.
JAVA_LAUNCHERS = frozenset({"java"})
