"""Application images composed on real bases: single-stage builds deny, multi-stage pass.

Each application appends history entries and layers to a corpus image, as ``docker build``
would on top of that base (BuildKit ``created_by`` dialect).
"""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Analysis
from slimgate.analysis.knowledge import Knowledge
from slimgate.model import ImageMetadata
from tests.support import corpus

KNOWLEDGE = Knowledge.default()
MB = 1_000_000


def run(image: ImageMetadata) -> Analysis:
    return analyse(image, KNOWLEDGE)


def deny_rules(analysis: Analysis) -> set[str]:
    return {f.rule for f in analysis.findings if rules.DEFAULT_ACTIONS[f.rule] == "deny"}


GO_SINGLE = [
    ("WORKDIR /src", 93),
    ("COPY go.mod go.sum ./ # buildkit", 800),
    ("RUN /bin/sh -c go mod download # buildkit", 40 * MB),
    ("COPY . . # buildkit", 3 * MB),
    (
        "RUN |1 VERSION=1.4.2 /bin/sh -c CGO_ENABLED=0 go build -o /bin/app ./cmd/app # buildkit",
        25 * MB,
    ),
    ('ENTRYPOINT ["/bin/app"]', None),
]


def test_single_stage_go_is_denied_for_base_and_build() -> None:
    analysis = run(corpus.extend(corpus.load("golang-1-bookworm"), GO_SINGLE))
    assert deny_rules(analysis) == {rules.TOOLCHAIN_BASE, rules.BUILD_IN_FINAL_IMAGE}
    build = next(f for f in analysis.findings if f.rule == rules.BUILD_IN_FINAL_IMAGE)
    assert build.layer == 11
    assert "go build" in build.message
    assert "after COPY . ." in build.message
    assert "distroless" in (build.remediation or "")


def test_single_stage_go_on_alpine_is_denied_too() -> None:
    analysis = run(corpus.extend(corpus.load("golang-1-alpine"), GO_SINGLE))
    assert deny_rules(analysis) == {rules.TOOLCHAIN_BASE, rules.BUILD_IN_FINAL_IMAGE}


def test_multi_stage_go_on_a_slim_base_is_clean() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("COPY --from=build /bin/app /bin/app # buildkit", 12 * MB),
            ('ENTRYPOINT ["/bin/app"]', None),
        ],
    )
    assert run(image).findings == ()


def test_multi_stage_go_on_alpine_is_clean() -> None:
    image = corpus.extend(
        corpus.load("alpine-3.24"),
        [
            ("RUN /bin/sh -c apk add --no-cache ca-certificates # buildkit", 300_000),
            ("COPY --from=build /bin/app /usr/local/bin/app # buildkit", 12 * MB),
            ('ENTRYPOINT ["app"]', None),
        ],
    )
    assert run(image).findings == ()


NODE_SINGLE = [
    ("WORKDIR /app", 93),
    ("COPY package.json package-lock.json ./ # buildkit", 4000),
    ("RUN /bin/sh -c npm ci # buildkit", 180 * MB),
    ("COPY . . # buildkit", 5 * MB),
    ("RUN /bin/sh -c npm run build # buildkit", 20 * MB),
    ('CMD ["node", "dist/server.js"]', None),
]


def test_single_stage_node_is_denied_and_warned() -> None:
    analysis = run(corpus.extend(corpus.load("node-22-bookworm"), NODE_SINGLE))
    found = {f.rule for f in analysis.findings}
    assert deny_rules(analysis) == {rules.BUILD_IN_FINAL_IMAGE}
    assert {rules.FULL_LANGUAGE_BASE, rules.DEV_DEPENDENCIES} <= found


def test_multi_stage_node_on_slim_is_clean() -> None:
    image = corpus.extend(
        corpus.load("node-22-bookworm-slim"),
        [
            ("WORKDIR /app", 93),
            ("COPY package.json package-lock.json ./ # buildkit", 4000),
            ("RUN /bin/sh -c npm ci --omit=dev # buildkit", 60 * MB),
            ("COPY --from=build /app/dist ./dist # buildkit", 2 * MB),
            ('CMD ["node", "dist/server.js"]', None),
        ],
    )
    assert run(image).findings == ()


def test_python_app_keeping_gcc_in_its_layer_is_denied() -> None:
    image = corpus.extend(
        corpus.load("python-3.12-slim-bookworm"),
        [
            ("WORKDIR /app", 93),
            ("COPY requirements.txt . # buildkit", 300),
            (
                "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends "
                "gcc libpq-dev && pip install -r requirements.txt # buildkit",
                95 * MB,
            ),
            ("RUN /bin/sh -c apt-get purge -y gcc libpq-dev # buildkit", 200_000),
            ("COPY . . # buildkit", 1 * MB),
        ],
    )
    analysis = run(image)
    installed = [f for f in analysis.findings if f.rule == rules.TOOLCHAIN_INSTALLED]
    assert len(installed) == 1
    assert installed[0].layer == 6
    assert installed[0].saving == 95 * MB
    assert "gcc, libpq-dev" in installed[0].message


def test_python_app_purging_gcc_in_the_same_step_is_clean() -> None:
    image = corpus.extend(
        corpus.load("python-3.12-slim-bookworm"),
        [
            (
                "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y gcc libpq-dev; "
                "pip install psycopg2; apt-get purge -y --auto-remove gcc libpq-dev # buildkit",
                30 * MB,
            ),
        ],
    )
    assert run(image).findings == ()


def test_sdk_copied_from_another_image_is_denied() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [("COPY /usr/local/go /usr/local/go # buildkit", 70 * MB)],
    )
    analysis = run(image)
    assert [f.rule for f in analysis.findings] == [rules.SDK_COPIED]
    assert analysis.findings[0].saving == 70 * MB
    assert "Go SDK" in analysis.findings[0].message


def test_sdk_downloaded_with_curl_and_tar_is_denied() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            (
                "RUN /bin/sh -c curl -fsSL https://go.dev/dl/go1.22.5.linux-amd64.tar.gz "
                "| tar -C /usr/local -xz # buildkit",
                68 * MB,
            ),
            (
                "ENV PATH=/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin",
                None,
            ),
        ],
    )
    assert [f.rule for f in run(image).findings] == [rules.SDK_COPIED]


def test_jdk_package_installed_on_a_plain_base_is_jdk_runtime() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            (
                "RUN /bin/sh -c apt-get install -y openjdk-17-jdk-headless # buildkit",
                90 * MB,
            )
        ],
    )
    finding = run(image).findings[0]
    assert finding.rule == rules.JDK_RUNTIME
    assert finding.saving == int(90 * MB * 0.65)


def test_app_on_a_java_jre_with_a_jar_is_clean() -> None:
    image = corpus.extend(
        corpus.load("eclipse-temurin-21-jre"),
        [
            ("COPY --from=build /app/target/app.jar /app.jar # buildkit", 40 * MB),
            ('CMD ["java", "-jar", "/app.jar"]', None),
        ],
    )
    assert run(image).findings == ()


def test_maven_single_stage_package_is_denied() -> None:
    image = corpus.extend(
        corpus.load("maven-3-eclipse-temurin-21"),
        [
            ("COPY pom.xml . # buildkit", 3000),
            ("COPY src ./src # buildkit", 200_000),
            ("RUN /bin/sh -c mvn -B -DskipTests clean package # buildkit", 80 * MB),
            ('CMD ["java", "-jar", "target/app.jar"]', None),
        ],
    )
    analysis = run(image)
    assert deny_rules(analysis) == {rules.TOOLCHAIN_BASE, rules.BUILD_IN_FINAL_IMAGE}
    build = next(f for f in analysis.findings if f.rule == rules.BUILD_IN_FINAL_IMAGE)
    assert "mvn package" in build.message


def test_messages_fit_and_source_annotation_links_findings() -> None:
    image = corpus.extend(
        corpus.load("golang-1-bookworm"),
        GO_SINGLE,
        annotations={"org.opencontainers.image.source": "https://git.example/team/app"},
    )
    analysis = run(image)
    assert analysis.findings
    for finding in analysis.findings:
        assert finding.source == "https://git.example/team/app"
        assert len(finding.message) <= 94


def test_classic_builder_history_is_read_like_buildkit() -> None:
    image = corpus.extend(
        corpus.load("python-3.12-slim-bookworm"),
        [
            ("/bin/sh -c #(nop) WORKDIR /app", None),
            ("/bin/sh -c #(nop) COPY dir:4f1c in /app ", 1 * MB),
            ("/bin/sh -c apt-get update && apt-get install -y gcc && pip install .", 80 * MB),
            ('/bin/sh -c #(nop)  CMD ["python", "-m", "app"]', None),
        ],
    )
    assert [f.rule for f in run(image).findings] == [rules.TOOLCHAIN_INSTALLED]


def test_buildkit_build_arg_holding_the_package_is_expanded() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [("RUN |1 CC_PKG=clang /bin/sh -c apt-get install -y $CC_PKG # buildkit", 60 * MB)],
    )
    finding = run(image).findings[0]
    assert finding.rule == rules.TOOLCHAIN_INSTALLED
    assert "clang" in finding.message
