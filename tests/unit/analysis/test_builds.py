"""build-in-final-image: where a build command counts and where it does not."""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.knowledge import Knowledge
from slimgate.model import ImageMetadata
from tests.support import corpus

MB = 1_000_000


def build_findings(image: ImageMetadata) -> list[int | None]:
    return [
        f.layer
        for f in analyse(image, Knowledge.default()).findings
        if f.rule == rules.BUILD_IN_FINAL_IMAGE
    ]


def on_golang(steps: list[tuple[str, int | None]]) -> ImageMetadata:
    return corpus.extend(corpus.load("golang-1-alpine"), steps)


def test_go_build_after_copy_of_sources_counts() -> None:
    image = on_golang(
        [("COPY . . # buildkit", MB), ("RUN /bin/sh -c go build -o /app . # buildkit", 9 * MB)]
    )
    assert build_findings(image) == [6]


def test_go_build_before_any_copy_builds_a_tool_not_the_app() -> None:
    image = on_golang(
        [
            (
                "RUN /bin/sh -c go install golang.org/x/tools/cmd/goimports@latest # buildkit",
                9 * MB,
            ),
            ("COPY --from=build /app /app # buildkit", MB),
        ]
    )
    assert build_findings(image) == []


def test_go_build_of_a_cloned_repository_counts() -> None:
    image = on_golang(
        [
            (
                "RUN /bin/sh -c git clone https://git.example/x.git && cd x && go build ./... "
                "# buildkit",
                9 * MB,
            )
        ]
    )
    assert build_findings(image) == [5]


def test_go_build_in_an_echo_string_does_not_count() -> None:
    image = on_golang(
        [("COPY . . # buildkit", MB), ("RUN /bin/sh -c echo 'run go build later' # buildkit", 100)]
    )
    assert build_findings(image) == []


def test_compile_in_a_self_cleaning_step_passes() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("COPY . /src # buildkit", MB),
            (
                "RUN /bin/sh -c apt-get update && apt-get install -y gcc make && make -C /src "
                "&& apt-get purge -y --auto-remove gcc make # buildkit",
                2 * MB,
            ),
        ],
    )
    assert build_findings(image) == []


def test_compile_keeping_the_compiler_counts() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("COPY . /src # buildkit", MB),
            (
                "RUN /bin/sh -c apt-get install -y build-essential && make -C /src # buildkit",
                90 * MB,
            ),
        ],
    )
    assert build_findings(image) == [2]


def test_official_images_that_build_from_source_are_not_builds() -> None:
    for name in (
        "redis-7",
        "haproxy-3.0",
        "memcached-1.6",
        "python-3.12-slim-bookworm",
        "httpd-2.4",
    ):
        assert build_findings(corpus.load(name)) == [], name


def test_final_stage_starts_after_the_last_cmd_boundary_of_an_unknown_base() -> None:
    # A company base (unknown to the signatures) that built its own tools, then CMD;
    # the application after it only copies a binary.
    base = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("COPY tools /src # buildkit", MB),
            ("RUN /bin/sh -c make -C /src install # buildkit", MB),
            ('CMD ["bash"]', None),
        ],
    )
    app = corpus.extend(base, [("COPY --from=build /app /app # buildkit", MB)])
    assert build_findings(app) == []
    assert build_findings(base) == [2]


def jdk_findings(image: ImageMetadata) -> list[int | None]:
    return [
        f.layer for f in analyse(image, Knowledge.default()).findings if f.rule == rules.JDK_RUNTIME
    ]


def test_a_java_home_copied_into_a_built_image_is_judged_by_its_size() -> None:
    """The history of `COPY --from=eclipse-temurin:21-jre /opt/java/openjdk ...` no longer
    names the image: a 50 MB layer is a JRE (Temurin 21's JRE layer is 50.6 MB), a 150 MB
    one a JDK (its JDK layer is 150.8 MB)."""
    copy = "COPY /opt/java/openjdk /opt/java/openjdk # buildkit"
    base = corpus.load("debian-bookworm-slim")
    assert jdk_findings(corpus.extend(base, [(copy, 50 * MB)])) == []
    assert jdk_findings(corpus.extend(base, [(copy, 150 * MB)])) == [1]


def on_node_slim(script: str) -> ImageMetadata:
    return corpus.extend(
        corpus.load("node-22-bookworm-slim"),
        [("COPY . . # buildkit", MB), (f"RUN /bin/sh -c {script} # buildkit", 90 * MB)],
    )


def test_a_build_between_install_and_prune_in_one_step_leaves_no_toolchain() -> None:
    image = on_node_slim("npm ci && npm run build && npm prune --omit=dev")
    assert build_findings(image) == []


def test_a_build_whose_dev_dependencies_stay_counts() -> None:
    last = len(corpus.load("node-22-bookworm-slim").layers) + 1
    # pruned before the build, not pruned at all, or installed in an earlier layer
    assert build_findings(on_node_slim("npm ci && npm prune --omit=dev && npm run build")) == [last]
    assert build_findings(on_node_slim("npm ci && npm run build")) == [last]
    assert build_findings(on_node_slim("npm run build && npm prune --omit=dev")) == [last]


def on_alpine(script: str) -> ImageMetadata:
    return corpus.extend(
        corpus.load("alpine-3.24"),
        [("COPY . . # buildkit", MB), (f"RUN /bin/sh -c {script} # buildkit", 9 * MB)],
    )


def test_a_build_in_a_step_that_removes_the_toolchain_it_installed_passes() -> None:
    script = "apk add --virtual .gobuild go git && go build -o /usr/bin/relay . && apk del .gobuild"
    assert build_findings(on_alpine(script)) == []


def test_a_build_whose_toolchain_stays_or_came_earlier_counts() -> None:
    last = len(corpus.load("alpine-3.24").layers) + 1
    assert build_findings(on_alpine("apk add go && go build -o /usr/bin/relay .")) == [last]
    # the step removes a toolchain package, but go itself stays
    assert build_findings(
        on_alpine("apk add go gcc && go build -o /usr/bin/relay . && apk del gcc")
    ) == [last]
    # removed before the build: the toolchain the build used came from somewhere else
    assert build_findings(
        on_alpine("apk add gcc && apk del gcc && go build -o /usr/bin/relay .")
    ) == [last]
