"""Java: Maven or Gradle in the JDK image, the jar on a JRE of the same vendor and major.

The JRE is chosen from the build image's tag (``maven:3-eclipse-temurin-21`` ->
``eclipse-temurin:21-jre``, ``gradle:8-jdk17-alpine`` -> ``eclipse-temurin:17-jre-alpine``,
``sapmachine:21`` -> ``sapmachine:21-jre``, Red Hat's ``ubi9/openjdk-17`` ->
``ubi9/openjdk-17-runtime``). The ``openjdk`` image never published JRE tags past 11 and is
deprecated: its builds move to Eclipse Temurin, the same OpenJDK, and the note says so.
A Spring Boot jar (Spring Boot docs, "Efficient Container Images") is extracted into its
layers in the build stage, so dependencies and the application are separate layers.
A Dockerfile that only runs a prebuilt jar on a JDK needs no build stage: its base moves
to the JRE.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re

from slimgate.analysis.packages import classify
from slimgate.analysis.shell import Command
from slimgate.fix import bases, entry
from slimgate.fix.context import Context, given_start
from slimgate.fix.model import Missing
from slimgate.fix.original import Original, RunStep
from slimgate.fix.project import xml_root, xml_text
from slimgate.fix.shape import Runtime, Shape, Start, needs

_BUILDERS = {"mvn": "maven", "mvnw": "maven", "gradle": "gradle", "gradlew": "gradle"}
_GOALS = frozenset(
    {
        "package",
        "install",
        "verify",
        "build",
        "assemble",
        "bootJar",
        "jar",
        "shadowJar",
        "bootWar",
        "war",
    }
)
_CORRETTO = (
    "Amazon Corretto's JRE images (-al2023-headless) are Amazon Linux only: the runtime is "
    "Eclipse Temurin's Alpine JRE of the same major"
)
# Corretto's headless tags install the JRE rpm alone, no -devel
# (corretto/corretto-docker 21/headless/al2023/Dockerfile@137b6ef02877)
_CORRETTO_JRE = "amazoncorretto:{major}-al2023-headless"
_MICROSOFT = (
    "the Microsoft Build of OpenJDK publishes no JRE image: the runtime is Eclipse Temurin's "
    "JRE of the same major"
)
_OPENJDK = (
    "the openjdk image is deprecated and has no JRE tags: the runtime is Eclipse Temurin's "
    "JRE of the same major"
)
# (repository regex, tag regex, template); groups: major and the optional "-alpine".
JRES: tuple[tuple[str, str, str, str], ...] = (
    (
        r"^eclipse-temurin$",
        r"^(\d+)(?:[._+\d]*)?(?:-jdk)?(-alpine|-jammy|-noble|-focal|-ubi\d+-minimal)?",
        "eclipse-temurin:{major}-jre{variant}",
        "",
    ),
    (
        r"^maven$",
        r"eclipse-temurin-(\d+)(-alpine|-noble|-jammy|-focal)?",
        "eclipse-temurin:{major}-jre{variant}",
        "",
    ),
    (r"^maven$", r"sapmachine-(\d+)", "sapmachine:{major}-jre", ""),
    (r"^maven$", r"ibm-semeru-(\d+)", "ibm-semeru-runtimes:open-{major}-jre", ""),
    (r"^maven$", r"amazoncorretto-(8)(-alpine)", "amazoncorretto:{major}{variant}-jre", ""),
    (
        r"^maven$",
        r"amazoncorretto-(\d+)(-alpine)",
        "eclipse-temurin:{major}-jre{variant}",
        _CORRETTO,
    ),
    (r"^maven$", r"amazoncorretto-(8)(?!\d)", "amazoncorretto:{major}-al2023-jre", ""),
    (r"^maven$", r"amazoncorretto-(\d+)", _CORRETTO_JRE, ""),
    (
        r"^maven$",
        r"openjdk-(\d+)(-alpine)?",
        "eclipse-temurin:{major}-jre{variant}",
        _OPENJDK,
    ),
    (
        r"^gradle$",
        r"jdk(\d+)(?:-(?:jammy|noble|focal))?(-alpine)?$",
        "eclipse-temurin:{major}-jre{variant}",
        "",
    ),
    (r"^gradle$", r"jdk(8)-corretto", "amazoncorretto:{major}-al2023-jre", ""),
    (r"^gradle$", r"jdk(\d+)-corretto", _CORRETTO_JRE, ""),
    (
        r"^openjdk$",
        r"^(\d+)(?:[.\d]*)?(?:-jdk)?(?:-slim|-buster|-bullseye|-bookworm)?(-alpine)?",
        "eclipse-temurin:{major}-jre{variant}",
        _OPENJDK,
    ),
    # Corretto 8 keeps JRE tags, on Amazon Linux and on Alpine (corretto-docker 8/jre/)
    (
        r"^amazoncorretto$",
        r"^(8)(?:u[\d]+)?[.\d]*(-alpine)",
        "amazoncorretto:{major}{variant}-jre",
        "",
    ),
    (r"^amazoncorretto$", r"^(8)(?!\d)", "amazoncorretto:{major}-al2023-jre", ""),
    (
        r"^amazoncorretto$",
        r"^(\d+)[.\d]*(-alpine)",
        "eclipse-temurin:{major}-jre{variant}",
        _CORRETTO,
    ),
    (r"^amazoncorretto$", r"^(\d+)", _CORRETTO_JRE, ""),
    (r"^mcr\.microsoft\.com/openjdk/jdk$", r"^(\d+)", "eclipse-temurin:{major}-jre", _MICROSOFT),
    (
        r"^sapmachine$",
        r"^(\d+)(?:[.\d]*)?(?:-jdk)?(-ubuntu[-\w.]*)?",
        "sapmachine:{major}-jre{variant}",
        "",
    ),
    (
        r"^ibm-semeru-runtimes$",
        r"^open-(\d+)(?:[.\d]*)?-jdk(-\w+)?",
        "ibm-semeru-runtimes:open-{major}-jre{variant}",
        "",
    ),
    (
        r"ubi(\d)/openjdk-(\d+)$",
        r".*",
        "registry.access.redhat.com/ubi{ubi}/openjdk-{major}-runtime",
        "",
    ),
)


# A distribution's JDK package -> its JRE package of the same major: the runtime without
# javac, jmods and the rest of the SDK. Names from each distribution's package index
# (Debian/Ubuntu, Alpine, Fedora/RHEL/UBI, Adoptium's and Amazon's repositories).
JRE_PACKAGES: tuple[tuple[str, str], ...] = (
    (r"openjdk-(\d+)-jdk(?:-headless)?", r"openjdk-\1-jre-headless"),
    (r"default-jdk(?:-headless)?", "default-jre-headless"),
    (r"openjdk(\d+)(?:-jdk)?", r"openjdk\1-jre-headless"),
    (r"java-([\d.]+|latest)-openjdk-devel", r"java-\1-openjdk-headless"),
    (r"temurin-(\d+)-jdk", r"temurin-\1-jre"),
    (r"java-(\d+)-amazon-corretto-devel", r"java-\1-amazon-corretto-headless"),
)
_JDK_ONLY = re.compile(r"java-[\d.]+-openjdk-jmods")  # nothing to run: dropped


def jre_package(package: str) -> str | None:
    """The JRE package for the JDK ``package`` ("" when the package is dropped), or None."""
    name = package.partition("=")[0]
    for pattern, replacement in JRE_PACKAGES:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    return "" if _JDK_ONLY.fullmatch(name) else None


def _package_swap(context: Context) -> Shape | None:
    """A prebuilt jar run on a JDK that a package manager installed on a plain base: the
    same base and the same install, with each JDK package replaced by its JRE package.
    None when the stage installs no JDK package, or one whose JRE package is not known."""
    original = context.original
    swaps: dict[str, str] = {}
    for package in original.packages:
        found = classify(package.partition("=")[0])
        if found is None or found.name != "jdk":
            continue
        jre = jre_package(package)
        if jre is None:
            return None  # no JRE package known for it: the base-image path says what is missing
        swaps[package] = jre
    if not swaps:
        return None
    words = [
        (re.compile(rf"(?<![\w.+-]){re.escape(package)}(?![\w.+-])"), jre or "")
        for package, jre in swaps.items()
    ]
    replace: dict[int, tuple[str, ...]] = {}
    for run in original.runs:
        lines = run.block.lines
        for word, jre in words:
            lines = tuple(word.sub(jre, line) for line in lines)
        if lines != run.block.lines:
            replace[run.index] = lines
    named = ", ".join(f"{p} -> {j}" if j else f"{p} (dropped)" for p, j in swaps.items())
    notes = []
    if "JAVA_HOME" in original.env:
        notes.append(
            f"ENV JAVA_HOME={original.env['JAVA_HOME']} may name the JDK's directory: check it "
            "against the JRE package's (java on PATH is enough to run the jar)"
        )
    return Shape(
        "java",
        None,
        Runtime(
            base=original.stage.raw_base,
            comment=f"runtime: the JRE packages instead of the JDK ({named}); a JDK is "
            "not needed to run a jar",
            copies=(),
            start=None,
        ),
        replace=replace,
        swap=True,
        notes=tuple(notes),
        not_counted=("the JDK packages against their JRE packages (weighed only after a build)",),
    )


def jre_for(repository: str, tag: str) -> tuple[str, str] | None:
    """The JRE image of the same vendor and major as the JDK ``repository:tag``, and a note."""
    for repo_pattern, tag_pattern, template, note in JRES:
        repo_match = re.search(repo_pattern, repository)
        if repo_match is None:
            continue
        if "ubi" in template:
            return template.format(ubi=repo_match.group(1), major=repo_match.group(2)), note
        match = re.search(tag_pattern, tag)
        if match is None:
            continue
        variant = match.group(2) if match.lastindex and match.lastindex >= 2 else None
        variant = "-alpine" if variant and "alpine" in variant else (variant or "")
        variant = "" if variant.startswith("-ubi") else variant
        return template.format(major=match.group(1), variant=variant), note
    return None


def _boot_version(context: Context) -> str | None:
    pom = xml_root(context.files, "pom.xml")
    if pom is not None:
        parent = xml_text(pom, "parent", "artifactId")
        if parent == "spring-boot-starter-parent":
            return xml_text(pom, "parent", "version")
        pom_text = context.files.read("pom.xml") or ""
        if "spring-boot-maven-plugin" in pom_text:
            found = re.search(r"<spring-boot\.version>([^<]+)<", pom_text)
            return found.group(1) if found else "unknown"
    for name in ("build.gradle", "build.gradle.kts"):
        text = context.files.read(name)
        if text is None:
            continue
        match = re.search(
            r"org\.springframework\.boot['\"]?\)?\s+version\s+['\"]([^'\"]+)['\"]", text
        )
        if match:
            return match.group(1)
        if "org.springframework.boot" in text:
            return "unknown"
    return None


def _pom_jar(context: Context, workdir: str) -> str | None:
    pom = xml_root(context.files, "pom.xml")
    if pom is None:
        return None
    final = xml_text(pom, "build", "finalName")
    artifact, version = xml_text(pom, "artifactId"), xml_text(pom, "version")
    packaging = xml_text(pom, "packaging") or "jar"
    if (
        packaging != "jar"
        or "${" in (final or "")
        or (final is None and (artifact is None or version is None or "${" in version))
    ):
        return None
    name = final or f"{artifact}-{version}"
    return entry.resolve(f"target/{name}.jar", workdir)


def _jar_in_start(
    words: tuple[str, ...], workdir: str
) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """(jar, JVM options before -jar, arguments after the jar) of a ``java -jar`` command."""
    if not words or posixpath.basename(words[0]) != "java" or "-jar" not in words:
        return None, (), ()
    at = words.index("-jar")
    if at + 1 >= len(words):
        return None, (), ()
    return entry.resolve(words[at + 1], workdir), words[1:at], words[at + 2 :]


def plan(context: Context) -> Shape:
    original = context.original
    found = jre_for(original.repository, original.tag)
    builds = _builds(original)
    if found is None and not builds:
        swapped = _package_swap(context)
        if swapped is not None:
            return swapped
    if found is None:
        return needs(
            "java",
            Missing(
                "the JDK's vendor and major version",
                "a pinned FROM tag",
                f"{original.base} does not say which JDK it carries; pin it (for example "
                "maven:3-eclipse-temurin-21 or eclipse-temurin:21-jdk)",
            ),
        )
    jre, vendor_note = found
    notes = [vendor_note] if vendor_note else []
    family = bases.family_of(jre)
    words = original.start()
    jar, options, arguments = _jar_in_start(words, original.workdir)
    if not builds:
        if any(command.program in _BUILDERS for _, command in original.all_commands()) or (
            words and words[0] in _BUILDERS
        ):
            return _missing_jar("the image runs the build tool at start-up; build the jar in a RUN")
        return Shape(
            "java",
            None,
            Runtime(
                base=jre,
                comment="runtime: the same application on a JRE of the same vendor "
                "and major (a JDK is not needed to run a jar)",
                copies=(),
                start=None,
            ),
            notes=tuple(notes),
            swap=True,
            replace=_java_named(original, words, notes),
        )
    run, command = builds[-1]
    tool = _BUILDERS[command.program]
    if context.options.artifact:
        jar = entry.resolve(context.options.artifact, run.workdir)
    if jar is None and tool == "maven":
        jar = _pom_jar(context, run.workdir)
    source = jar
    if jar is not None and "*" in jar:
        # ``java -jar target/*.jar``: the jar pom.xml names when the pattern matches it,
        # else the one jar the pattern matches (as the shell's expansion ran it), copied
        # to a fixed name
        named = _pom_jar(context, run.workdir) if tool == "maven" else None
        if named is not None and fnmatch.fnmatchcase(named, jar):
            jar = source = named
        elif "*" not in posixpath.dirname(jar):
            jar = posixpath.join(posixpath.dirname(jar), "app.jar")
            notes.append(f"the runtime copies the jar {source} matches to {jar}")
    if jar is None or source is None or "*" in jar:
        return _missing_jar(
            "the start command does not name the jar (java -jar ...) and pom.xml does not either"
        )
    boot = _boot_version(context)
    appdir = "/app"
    b = context.builder
    after: dict[int, tuple[str, ...]] = {}
    java = ("java", *options)
    if boot is not None and boot != "unknown" and _at_least(boot, (2, 3)):
        name = posixpath.basename(jar)
        if _at_least(boot, (3, 3)):
            extract = (
                f"RUN java -Djarmode=tools -jar {source} extract --layers --destination /extracted"
            )
            layer_root = "/extracted"
            cmd = (*java, "-jar", f"{appdir}/{name}", *arguments)
        else:
            launcher = (
                "org.springframework.boot.loader.launch.JarLauncher"
                if _at_least(boot, (3, 2))
                else "org.springframework.boot.loader.JarLauncher"
            )
            extract = (
                "RUN mkdir /extracted && cd /extracted "
                f"&& java -Djarmode=layertools -jar {source} extract"
            )
            layer_root = "/extracted"
            cmd = (*java, launcher, *arguments)
        after[len(original.blocks)] = (
            "# Spring Boot: split the jar into layers (dependencies change less often than code)",
            extract,
        )
        copies = tuple(
            f"COPY --from={b} {layer_root}/{layer}/ {appdir}/"
            for layer in (
                "dependencies",
                "spring-boot-loader",
                "snapshot-dependencies",
                "application",
            )
        )
        framework: str | None = "spring-boot"
        comment = "runtime: the Spring Boot layers on a JRE of the same vendor and major"
    else:
        if boot == "unknown":
            notes.append(
                "Spring Boot's version is not readable: the jar is copied whole, not in layers"
            )
        copies = (f"COPY --from={b} {source} {jar}",)
        cmd = (*java, "-jar", jar, *arguments)
        framework = "spring-boot" if boot else None
        comment = "runtime: the jar on a JRE of the same vendor and major"
    start: Start | None = given_start(context.options)
    if start is None:
        if words and jar is not None and not _jar_in_start(words, original.workdir)[0]:
            return needs(
                "java",
                Missing(
                    "the command the runtime image starts",
                    "--start",
                    f"the image starts `{' '.join(words)}`, not java -jar",
                    example='--start \'["java", "-jar", "/app/app.jar"]\'',
                ),
                framework=framework,
            )
        start = Start(cmd=cmd) if original.entrypoint is None else Start(entrypoint=cmd)
    return Shape(
        "java",
        framework,
        Runtime(
            base=jre,
            comment=comment,
            copies=copies,
            start=start,
            user=family.add_user,
            shell=family.shell,
            workdir=appdir
            if framework == "spring-boot" and copies[0].endswith(f"{appdir}/")
            else None,
            drop_env=frozenset({"MAVEN_OPTS", "MAVEN_CONFIG", "GRADLE_OPTS", "GRADLE_USER_HOME"}),
            users=family.users,
            tools=family.tools,
        ),
        purpose=f"build: packages the application with {tool} and the JDK",
        before=after,
        notes=tuple(notes),
        not_counted=("the jar the build writes",),
    )


def _java_named(
    original: Original, words: tuple[str, ...], notes: list[str]
) -> dict[int, tuple[str, ...]]:
    """The CMD rewritten to name ``java`` when it starts with an option (``["-jar",
    "/app.jar"]``): it ran on the JDK image's ``java`` entrypoint (distroless JDKs), which
    the JRE image does not have."""
    if not words or not words[0].startswith("-") or original.entrypoint is not None:
        return {}
    at = max(
        (i for i, ins in enumerate(original.stage.instructions) if ins.keyword == "CMD"),
        default=None,
    )
    if at is None:
        return {}
    notes.append("the JDK image started java itself: the CMD now names java")
    return {at: ("CMD " + json.dumps(["java", *words]),)}


def _builds(original: Original) -> list[tuple[RunStep, Command]]:
    """The RUN commands that build the application with Maven or Gradle."""
    return [
        (run, command)
        for run, command in original.all_commands()
        if command.program in _BUILDERS and _GOALS & set(command.argv[1:])
    ]


def _at_least(version: str, floor: tuple[int, int]) -> bool:
    parts = re.findall(r"\d+", version)[:2]
    return len(parts) == 2 and (int(parts[0]), int(parts[1])) >= floor


def _missing_jar(why: str) -> Shape:
    return needs(
        "java",
        Missing(
            "the path of the jar the build writes",
            "--artifact",
            why,
            example="--artifact target/app-1.0.jar",
        ),
    )
