#!/usr/bin/env bash
# Build and cache the Go tools the tests run: a real kube-apiserver, kine (an
# etcd-compatible store over SQLite) and helm for the end-to-end and chart
# tests, actionlint, which scripts/test runs over .github/workflows, and the
# registry credential programs the credential tests run: the kubelet
# credential-provider plugin for ECR (ecr-credential-provider) and the Docker
# credential helper for ECR (docker-credential-ecr-login).
#
# Everything is built from Go modules with the local Go toolchain, so this
# works on any machine that has Go and can reach the Go module proxy.
# Binaries are cached by version under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/slimgate/<tool>-<version>/<tool>
# and a second run only prints their paths.
#
# Usage: scripts/ensure-k8s-tools.sh [--print-env] [--rebuild] [TOOL...]
#   TOOL is any of kube-apiserver, kine, helm, actionlint, ecr-credential-provider,
#   docker-credential-ecr-login (default: all six).
#   --rebuild builds the named tools again even when they are cached.
#   Progress goes to stderr; stdout carries one KEY=PATH line per tool
#   (KUBE_APISERVER, KINE, HELM, ACTIONLINT, ECR_CREDENTIAL_PROVIDER,
#   DOCKER_CREDENTIAL_ECR_LOGIN), suitable for `eval` or for parsing.
set -euo pipefail

KUBE_VERSION="${SLIMGATE_KUBE_VERSION:-v1.34.4}"
KINE_VERSION="${SLIMGATE_KINE_VERSION:-v0.17.5}"
HELM_VERSION="${SLIMGATE_HELM_VERSION:-v3.21.4}"
ACTIONLINT_VERSION="${SLIMGATE_ACTIONLINT_VERSION:-v1.7.12}"
# k8s.io/cloud-provider-aws and github.com/awslabs/amazon-ecr-credential-helper/ecr-login
ECR_PROVIDER_VERSION="${SLIMGATE_ECR_PROVIDER_VERSION:-v1.37.1}"
ECR_LOGIN_VERSION="${SLIMGATE_ECR_LOGIN_VERSION:-v0.13.0}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/slimgate"
REBUILD=0

log() { printf 'ensure-k8s-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "the Go toolchain (go) is not on PATH"
[[ "$KUBE_VERSION" =~ ^v1\.[0-9]+\.[0-9]+$ ]] ||
    die "SLIMGATE_KUBE_VERSION must look like v1.N.P, got ${KUBE_VERSION}"

# Install $2 (a built file) as $1 atomically, so an interrupted build never
# leaves a half-written binary behind that a later run would trust.
install_atomic() {
    local dest="$1" built="$2"
    chmod 0755 "$built"
    mv -f "$built" "$dest"
}

# Run "$@" under an exclusive lock for tool directory $1, so concurrent
# callers (a test run and a shell) wait for one build instead of racing.
with_lock() {
    local dir="$1"
    shift
    mkdir -p "$dir"
    (
        flock 9
        "$@"
    ) 9>"$dir/.lock"
}

# Print the kubernetes staging modules of k8s.io/kubernetes@$1, read from the
# replace directives of its own go.mod (they point into ./staging/src).
staging_modules() {
    local version="$1" gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@${version}" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n "$gomod" && -f "$gomod" ]] || die "could not download go.mod of k8s.io/kubernetes@${version}"
    sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*$|\1|p' "$gomod"
}

build_kube_apiserver() {
    local dir="$1" bin="$1/kube-apiserver"
    [[ -x "$bin" && "$REBUILD" == 0 ]] && return 0
    [[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]
    local minor="${BASH_REMATCH[1]}" patch="${BASH_REMATCH[2]}"
    local staging_version="v0.${minor}.${patch}"

    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces
    # them with local directories, which a dependent module cannot see. A
    # small wrapper module pins each of them to the matching v0.N.P release.
    # It is kept once written: `go build` completes its go.mod, and a wrapper
    # generated anew misses the Go build cache (a full rebuild).
    local wrapper="$dir/wrapper"
    if [[ ! -f "$wrapper/go.mod" ]]; then
        mkdir -p "$wrapper"
        local modules
        modules="$(staging_modules "$KUBE_VERSION")"
        [[ -n "$modules" ]] || die "no staging modules found for k8s.io/kubernetes@${KUBE_VERSION}"
        {
            printf 'module slimgate.invalid/kube-apiserver-wrapper\n\n'
            printf 'go 1.24\n\n'
            printf 'require k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
            printf 'replace (\n'
            local module
            while read -r module; do
                printf '\t%s => %s %s\n' "$module" "$module" "$staging_version"
            done <<<"$modules"
            printf ')\n'
        } >"$wrapper/go.mod.tmp"
        mv -f "$wrapper/go.mod.tmp" "$wrapper/go.mod"
    fi

    local ldflags="-s -w"
    ldflags+=" -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}"
    ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
    ldflags+=" -X k8s.io/component-base/version.gitMinor=${minor}"
    ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

    log "building kube-apiserver ${KUBE_VERSION} (this takes a while the first time)"
    local start=$SECONDS
    (
        cd "$wrapper"
        GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" CGO_ENABLED=0 \
            go build -ldflags "$ldflags" -o "$bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    )
    install_atomic "$bin" "$bin.tmp"
    log "built kube-apiserver ${KUBE_VERSION} in $((SECONDS - start))s"
}

# go install "$2" into directory $1 and leave binary $3 there; $4 holds
# extra linker flags (the version stamps that a release build would set).
go_install_into() {
    local dir="$1" pkg="$2" name="$3" ldflags="-s -w ${4:-}"
    [[ -x "$dir/$name" && "$REBUILD" == 0 ]] && return 0
    log "installing ${pkg}"
    local start=$SECONDS staging="$dir/.gobin"
    rm -rf "$staging"
    mkdir -p "$staging"
    GOBIN="$staging" CGO_ENABLED=0 go install -ldflags "$ldflags" "$pkg"
    install_atomic "$dir/$name" "$staging/$name"
    rm -rf "$staging"
    log "installed ${pkg} in $((SECONDS - start))s"
}

# k8s.io/cloud-provider-aws carries a replace directive in its go.mod, which `go install
# module@version` refuses; the plugin is built inside the downloaded module instead, with
# that module's own go.mod and go.sum (the module directory is read-only; -o writes elsewhere).
build_ecr_credential_provider() {
    local dir="$1" bin="$1/ecr-credential-provider"
    [[ -x "$bin" && "$REBUILD" == 0 ]] && return 0
    log "building ecr-credential-provider ${ECR_PROVIDER_VERSION}"
    local start=$SECONDS module
    module="$(go mod download -json "k8s.io/cloud-provider-aws@${ECR_PROVIDER_VERSION}" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n "$module" && -d "$module" ]] ||
        die "could not download k8s.io/cloud-provider-aws@${ECR_PROVIDER_VERSION}"
    (
        cd "$module"
        CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" ./cmd/ecr-credential-provider
    )
    install_atomic "$bin" "$bin.tmp"
    log "built ecr-credential-provider ${ECR_PROVIDER_VERSION} in $((SECONDS - start))s"
}

# The linker flags of helm's own release build (its Makefile): the version,
# and the Kubernetes version that `helm template` and `helm lint` assume
# without a cluster, taken from the client-go that helm $1 requires (client-go
# v0.N.P is Kubernetes 1.N). Without them `helm template` assumes v1.20.0.
helm_ldflags() {
    local version="$1" gomod client_go
    gomod="$(go mod download -json "helm.sh/helm/v3@${version}" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n "$gomod" && -f "$gomod" ]] || die "could not download go.mod of helm.sh/helm/v3@${version}"
    client_go="$(sed -n 's|^[[:space:]]*k8s\.io/client-go \(v0\.[0-9]*\)\.[0-9]*.*$|\1|p' "$gomod" | head -n 1)"
    [[ "$client_go" =~ ^v0\.([0-9]+)$ ]] || die "no k8s.io/client-go requirement in ${gomod}"
    local minor="${BASH_REMATCH[1]}" pkg
    printf -- '-X helm.sh/helm/v3/internal/version.version=%s' "$version"
    for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        printf -- ' -X %s.k8sVersionMajor=1 -X %s.k8sVersionMinor=%s' "$pkg" "$pkg" "$minor"
    done
}

ensure() {
    local tool="$1" dir
    case "$tool" in
    kube-apiserver)
        dir="$CACHE_ROOT/kube-apiserver-${KUBE_VERSION}"
        with_lock "$dir" build_kube_apiserver "$dir"
        printf 'KUBE_APISERVER=%s\n' "$dir/kube-apiserver"
        ;;
    kine)
        dir="$CACHE_ROOT/kine-${KINE_VERSION}"
        with_lock "$dir" go_install_into "$dir" "github.com/k3s-io/kine@${KINE_VERSION}" kine \
            "-X github.com/k3s-io/kine/pkg/version.Version=${KINE_VERSION}"
        printf 'KINE=%s\n' "$dir/kine"
        ;;
    helm)
        dir="$CACHE_ROOT/helm-${HELM_VERSION}"
        [[ -x "$dir/helm" && "$REBUILD" == 0 ]] ||
            with_lock "$dir" go_install_into "$dir" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" helm \
                "$(helm_ldflags "$HELM_VERSION")"
        printf 'HELM=%s\n' "$dir/helm"
        ;;
    actionlint)
        dir="$CACHE_ROOT/actionlint-${ACTIONLINT_VERSION}"
        with_lock "$dir" go_install_into "$dir" \
            "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" actionlint
        printf 'ACTIONLINT=%s\n' "$dir/actionlint"
        ;;
    ecr-credential-provider)
        dir="$CACHE_ROOT/ecr-credential-provider-${ECR_PROVIDER_VERSION}"
        with_lock "$dir" build_ecr_credential_provider "$dir"
        printf 'ECR_CREDENTIAL_PROVIDER=%s\n' "$dir/ecr-credential-provider"
        ;;
    docker-credential-ecr-login)
        dir="$CACHE_ROOT/docker-credential-ecr-login-${ECR_LOGIN_VERSION}"
        with_lock "$dir" go_install_into "$dir" \
            "github.com/awslabs/amazon-ecr-credential-helper/ecr-login/cli/docker-credential-ecr-login@${ECR_LOGIN_VERSION}" \
            docker-credential-ecr-login
        printf 'DOCKER_CREDENTIAL_ECR_LOGIN=%s\n' "$dir/docker-credential-ecr-login"
        ;;
    *) die "unknown tool: ${tool} (expected kube-apiserver, kine, helm, actionlint, ecr-credential-provider or docker-credential-ecr-login)" ;;
    esac
}

tools=()
for arg in "$@"; do
    case "$arg" in
    --print-env) ;; # stdout always carries KEY=PATH lines; kept for clarity
    --rebuild) REBUILD=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*) die "unknown option: ${arg}" ;;
    *) tools+=("$arg") ;;
    esac
done
[[ ${#tools[@]} -gt 0 ]] ||
    tools=(kube-apiserver kine helm actionlint ecr-credential-provider docker-credential-ecr-login)

for tool in "${tools[@]}"; do
    ensure "$tool"
done
