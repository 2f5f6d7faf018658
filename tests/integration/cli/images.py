"""The images the CLI tests check: a golang single-stage build and a small clean one."""

from __future__ import annotations

from tests.support.images import ImageSpec

GO_PATH = "/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GO_URL = "https://dl.google.com/go/go1.23.1.linux-amd64.tar.gz"

GOLANG_BASE = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ", 5000),
        ('/bin/sh -c #(nop)  CMD ["bash"]', None),
        (
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends "
            "g++ gcc libc6-dev make pkg-config",
            3000,
        ),
        ("/bin/sh -c #(nop)  ENV GOLANG_VERSION=1.23.1", None),
        (f"/bin/sh -c set -eux; wget -O go.tgz {GO_URL}; tar -C /usr/local -xzf go.tgz", 7000),
        (f"/bin/sh -c #(nop)  ENV PATH={GO_PATH}", None),
    ),
    env=(f"PATH={GO_PATH}", "GOLANG_VERSION=1.23.1", "GOPATH=/go"),
)

GOLANG_APP = ImageSpec(
    history=(
        *GOLANG_BASE.history,
        ("WORKDIR /src", None),
        ("COPY . /src # buildkit", 1500),
        ("RUN /bin/sh -c go build -o /usr/local/bin/app ./cmd/app # buildkit", 2500),
        ('CMD ["app"]', None),
    ),
    env=GOLANG_BASE.env,
)

SMALL_APP = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:0123abcd in / ", 800),
        ("COPY app /app # buildkit", 400),
        ('CMD ["/app"]', None),
    ),
    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
)
