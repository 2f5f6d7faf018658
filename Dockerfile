# syntax=docker/dockerfile:1
#
# slimgate's own image, built the way slimgate asks images to be built: a
# build stage with pip and the wheel toolchain, a stage that compiles the
# registry credential plugin, and a runtime stage that only receives the
# installed wheels and the plugin binary. No compiler, Go SDK, pip cache or
# source tree ships.

# The release passes the base pinned by digest (name@sha256:…) and records it in the labels.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG GO_IMAGE=golang:1.26-bookworm

# --- plugins: the kubelet credential-provider plugin for ECR ---------------------------------
# k8s.io/cloud-provider-aws has a replace directive in its go.mod, so `go install
# module@version` refuses it; it is built inside the downloaded module with that module's own
# go.mod and go.sum. The GCP and Azure plugins are not built: see the README.
FROM ${GO_IMAGE} AS plugins
ARG ECR_PROVIDER_VERSION=v1.37.1
ENV CGO_ENABLED=0
RUN module="$(go mod download -json "k8s.io/cloud-provider-aws@${ECR_PROVIDER_VERSION}" \
      | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" \
 && cd "$module" \
 && go build -trimpath -ldflags "-s -w" -o /out/ecr-credential-provider ./cmd/ecr-credential-provider

# --- build: the slimgate wheel and a wheel for every dependency -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore lets in only pyproject.toml, the README, the licence and src/.
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels /wheels/slimgate-*.whl

# --- runtime: the installed package and nothing else ------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# Set by the release (.github/workflows/release.yml): the tag's version, the commit, and
# the base as slimgate reads it on other images (base.name without the digest, base.digest).
ARG PYTHON_IMAGE
ARG VERSION=unreleased
ARG REVISION=""
ARG BASE_NAME=${PYTHON_IMAGE}
ARG BASE_DIGEST=""
LABEL org.opencontainers.image.title="slimgate" \
      org.opencontainers.image.description="Admission webhook, audit operator and CLI that keep single-stage toolchain images out of Kubernetes clusters" \
      org.opencontainers.image.source="https://github.com/slimgate/slimgate" \
      org.opencontainers.image.url="https://github.com/slimgate/slimgate" \
      org.opencontainers.image.documentation="https://github.com/slimgate/slimgate#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="slimgate maintainers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_NAME}" \
      org.opencontainers.image.base.digest="${BASE_DIGEST}"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# The wheels are bind-mounted from the build stage, so they never become a layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels slimgate \
 && groupadd --system --gid 65532 slimgate \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin slimgate
# The plugin binary alone; the chart points registry.credentialPlugins.binDir here.
COPY --from=plugins /out/ecr-credential-provider /usr/local/lib/slimgate/credential-providers/
# The UID the Helm chart's securityContext runs as (runAsUser: 65532).
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["slimgate"]
CMD ["--help"]
