# Sourced by scripts/test and scripts/serve-dev: make sure .venv/ exists and works.
#
# Debian's python3 has no venv/ensurepip until python3-venv is installed, and a venv made
# without them has no pip; a half-made .venv is removed and made again.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_venv() {
  local venv=$1
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "== installing python3-venv (python3 has no venv module)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  if [ -d "$venv" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "== $venv is incomplete; making it again"
    rm -rf "$venv"
  fi
  if [ ! -d "$venv" ]; then
    python3 -m venv "$venv"
  fi
}
