"""The multi-stage shape that fixes each ecosystem's finding, as data.

``advice`` is short enough for the one-line finding message; ``shape`` is the full
remediation. ``retained_fraction`` is the share of the toolchain layers the fixed image
still ships (a JRE is roughly a third of the JDK it replaces); the saving is the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Remediation:
    advice: str
    shape: str
    retained_fraction: float = 0.0


REMEDIATIONS: dict[str, Remediation] = {
    "go": Remediation(
        "build in golang, ship on distroless/static",
        "multi-stage: go build (CGO_ENABLED=0) in golang:<version>, then FROM "
        "gcr.io/distroless/static-debian12 (or scratch) and COPY --from=build the binary",
    ),
    "rust": Remediation(
        "build in rust, ship on distroless/cc",
        "multi-stage: cargo build --release in rust:<version>, then FROM "
        "gcr.io/distroless/cc-debian12 (or debian:bookworm-slim) and COPY --from=build the binary",
    ),
    "c": Remediation(
        "compile in a build stage, ship on debian-slim",
        "multi-stage: compile in gcc/buildpack-deps, then FROM debian:bookworm-slim (or "
        "gcr.io/distroless/cc-debian12) and copy the binaries; or remove build packages in "
        "the RUN that installed them",
    ),
    "java": Remediation(
        "build with the JDK, run on eclipse-temurin:*-jre",
        "multi-stage: mvn/gradle package in maven:3-eclipse-temurin-21 (or gradle), then FROM "
        "eclipse-temurin:21-jre (or gcr.io/distroless/java21) and COPY --from=build the jar",
    ),
    "jdk": Remediation(
        "run on a JRE (eclipse-temurin:*-jre)",
        "FROM eclipse-temurin:<version>-jre (or a jlink-built runtime) instead of the JDK; "
        "compile in a separate JDK stage",
        retained_fraction=0.35,
    ),
    # What each vendor's runtime keeps of its JDK, from the compressed JDK and runtime
    # layers of the same release (docker-library/repo-info, linux/amd64; the corpus files
    # tests/fixtures/corpus/*-21-*.json): Temurin 50.6 of 150.8 MB, Semeru 60.8 of 241.6,
    # SapMachine 66.2 of 222.4, Corretto's -headless rpm 89.3 of 170.4.
    # Corretto 11 and later publish no JRE image: its runtime-only image installs the
    # -headless rpm without -devel and -jmods (corretto/corretto-docker
    # 21/headless/al2023/Dockerfile at 08df98dad1cb; tag amazoncorretto:21-al2023-headless).
    "jdk-corretto": Remediation(
        "run on amazoncorretto:*-al2023-headless or a jlink runtime",
        "FROM amazoncorretto:<version>-al2023-headless (Corretto's runtime without javac and "
        "jmods), or jlink --add-modules <what jdeps lists> in amazoncorretto:<version> and COPY "
        "--from=build the runtime into a slim base; compile in a separate JDK stage",
        retained_fraction=0.52,
    ),
    "jdk-tomcat": Remediation(
        "run on tomcat's JRE variant (tomcat:*-jre<N>)",
        "FROM tomcat:<version>-jre<N>, the same Tomcat on Temurin's JRE, instead of -jdk<N>; "
        "build the webapp in a separate JDK stage and COPY --from=build the war into webapps/",
        retained_fraction=0.35,
    ),
    "jdk-sapmachine": Remediation(
        "run on a JRE (sapmachine:*-jre)",
        "FROM sapmachine:<version>-jre (or a jlink-built runtime) instead of the JDK; compile "
        "in a separate sapmachine:<version>-jdk stage",
        retained_fraction=0.30,
    ),
    "jdk-semeru": Remediation(
        "run on a JRE (ibm-semeru-runtimes:open-*-jre)",
        "FROM ibm-semeru-runtimes:open-<version>-jre (or a jlink-built runtime) instead of the "
        "JDK; compile in a separate open-<version>-jdk stage",
        retained_fraction=0.25,
    ),
    "jdk-rpm": Remediation(
        "install java-<version>-openjdk-headless, not -devel",
        "yum/dnf/microdnf install java-<version>-openjdk-headless (the JRE) in the final "
        "image, or FROM ubi9/openjdk-<version>-runtime; compile in a separate -devel stage",
        retained_fraction=0.35,
    ),
    "clojure": Remediation(
        "build the uberjar in clojure, run on a JRE",
        "multi-stage: lein uberjar (or clojure -T:build uber) in clojure:<variant>, then FROM "
        "eclipse-temurin:21-jre and COPY --from=build the standalone jar",
    ),
    "erlang": Remediation(
        "build a release, run it on debian-slim",
        "multi-stage: rebar3 as prod release (or mix release) in erlang/elixir:<version>, then "
        "FROM debian:<suite>-slim and COPY --from=build the release, which bundles ERTS",
    ),
    "dart": Remediation(
        "dart compile exe in dart, ship on scratch",
        "multi-stage: dart pub get and dart compile exe in dart:<version>, then FROM scratch, "
        "COPY --from=build /runtime/ / (the C library and certificates the dart image prepares "
        "there) and the compiled executable",
    ),
    "composer": Remediation(
        "run composer in a build stage, copy vendor/ into php",
        "multi-stage: composer install --no-dev --optimize-autoloader in composer:<version>, "
        "then FROM php:<version>-fpm-alpine (or -cli-alpine) and COPY --from=build /app/vendor "
        "with the application; composer, git and make stay in the build stage",
    ),
    "r": Remediation(
        "install packages in a stage, run R without r-base-dev",
        "multi-stage: install2.r (or install.packages) in r-base:<version>, where r-base-dev "
        "compiles them, then FROM debian:testing-slim with r-base-core and the packages' "
        "runtime libraries, and COPY --from=build /usr/local/lib/R/site-library",
    ),
    "perl": Remediation(
        "install modules in perl, run on perl:*-slim",
        "multi-stage: cpanm --installdeps (XS modules need the compilers) in perl:<version>, then "
        "FROM perl:<version>-slim and COPY --from=build the installed modules (local::lib)",
    ),
    "haskell": Remediation(
        "build in haskell, ship on debian-slim",
        "multi-stage: cabal/stack build in haskell:<version>, then FROM debian:<suite>-slim with "
        "the runtime libraries (libgmp10, libffi8, zlib1g) and COPY --from=build the binary",
    ),
    "swift": Remediation(
        "build in swift, ship on swift:*-slim",
        "multi-stage: swift build -c release --static-swift-stdlib in swift:<version>, then FROM "
        "swift:<version>-slim (or ubuntu) and COPY --from=build the binary",
    ),
    "node": Remediation(
        "build in node, run on node:*-slim",
        "multi-stage: npm ci and npm run build in node:<version>, then FROM node:<version>-slim, "
        "npm ci --omit=dev and COPY --from=build the build output",
    ),
    "python": Remediation(
        "build wheels in python, run on python:*-slim",
        "multi-stage: pip wheel in python:<version>, then FROM python:<version>-slim and "
        "pip install --no-index the wheels (no compilers needed at run time)",
    ),
    "pypy": Remediation(
        "build wheels in pypy, run on pypy:*-slim",
        "multi-stage: pip wheel in pypy:<version>, then FROM pypy:<version>-slim and "
        "pip install --no-index the wheels (no compilers needed at run time)",
    ),
    "ruby": Remediation(
        "bundle in ruby, run on ruby:*-slim",
        "multi-stage: bundle install in ruby:<version>, then FROM ruby:<version>-slim with "
        "BUNDLE_WITHOUT=development:test and COPY --from=build the bundle",
    ),
    "php": Remediation(
        "build extensions in a stage, run on php:*-alpine",
        "multi-stage: docker-php-ext-install in php:<version>-cli, then copy the built "
        "extensions into php:<version>-cli-alpine, which keeps no $PHPIZE_DEPS",
    ),
    "dotnet": Remediation(
        "publish in dotnet/sdk, run on dotnet/aspnet",
        "multi-stage: dotnet publish in mcr.microsoft.com/dotnet/sdk, then FROM "
        "mcr.microsoft.com/dotnet/aspnet (or runtime, runtime-deps) and COPY --from=build",
    ),
    "buildpacks": Remediation(
        "deploy the app image pack builds, not the builder",
        "a builder or build image only builds: run `pack build` (or spring-boot:build-image, "
        "a kpack Image) and deploy the app image it exports on the stack's run image",
    ),
    "buildpacks-jdk": Remediation(
        "build with BP_JVM_TYPE=JRE (the default)",
        "rebuild without BP_JVM_TYPE=JDK so the JVM buildpack contributes a JRE launch layer; "
        "the JDK stays a build-only layer",
        retained_fraction=0.35,
    ),
    "apko-go": Remediation(
        "build in chainguard/go, ship on chainguard/static",
        "multi-stage: go build in cgr.dev/chainguard/go, then FROM cgr.dev/chainguard/static "
        "and COPY --from=build the binary (or build with ko or melange + apko)",
    ),
    "apko-rust": Remediation(
        "build in chainguard/rust, ship on chainguard/glibc-dynamic",
        "multi-stage: cargo build --release in cgr.dev/chainguard/rust, then FROM "
        "cgr.dev/chainguard/glibc-dynamic (or static) and COPY --from=build the binary",
    ),
    "apko-c": Remediation(
        "compile in a stage, ship on chainguard/glibc-dynamic",
        "multi-stage: compile in cgr.dev/chainguard/gcc-glibc, then FROM "
        "cgr.dev/chainguard/glibc-dynamic and COPY --from=build the binaries",
    ),
    "apko-java": Remediation(
        "build in chainguard/maven, run on chainguard/jre",
        "multi-stage: mvn/gradle package in cgr.dev/chainguard/maven (or gradle), then FROM "
        "cgr.dev/chainguard/jre and COPY --from=build the jar",
    ),
    "apko-jdk": Remediation(
        "run on cgr.dev/chainguard/jre",
        "FROM cgr.dev/chainguard/jre instead of chainguard/jdk; compile in a separate JDK stage",
        retained_fraction=0.35,
    ),
    "apko-dotnet": Remediation(
        "publish in chainguard/dotnet-sdk, run on aspnet-runtime",
        "multi-stage: dotnet publish in cgr.dev/chainguard/dotnet-sdk, then FROM "
        "cgr.dev/chainguard/aspnet-runtime (or dotnet-runtime) and COPY --from=build",
    ),
    "s2i": Remediation(
        "ship on a UBI runtime image, not the s2i builder",
        "s2i build --runtime-image (or an OpenShift chained build): assemble in the builder, "
        "then copy the artefacts onto ubi9/<language>-minimal or ubi9/ubi-minimal "
        "(microdnf install only the runtime packages)",
    ),
    "s2i-java": Remediation(
        "run on ubi9/openjdk-<version>-runtime",
        "build with s2i/Maven in ubi9/openjdk-<version>, then a chained build (or s2i "
        "--runtime-image) onto ubi9/openjdk-<version>-runtime, which ships a JRE",
    ),
    "nix": Remediation(
        "keep build inputs out of the image contents",
        "dockerTools: put only the built package in contents (buildGoModule, rustPlatform, "
        "stdenv.mkDerivation outputs); compilers belong in nativeBuildInputs, not contents",
    ),
    "generic": Remediation(
        "remove build deps in the same RUN or use a build stage",
        "install build dependencies and remove them in the same RUN (apk add --virtual .build-deps"
        " ... && apk del .build-deps; apt-get purge --auto-remove), or build in a separate stage",
    ),
}


def remediation_for(ecosystem: str) -> Remediation:
    return REMEDIATIONS.get(ecosystem, REMEDIATIONS["generic"])
