#!/usr/bin/env bash
# One-time (and idempotent) set-up of a machine for Duet: Debian packages, then the project-local
# Python virtual environment. Fast when everything is already there. Never installs models (the
# built binary does that: build/duet models pull) and never touches files outside .venv and apt.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
  local wanted missing=()
  mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$')
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages: all ${#wanted[@]} present"
    return
  fi
  log "Debian packages: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_python_env() {
  local req=tools/requirements.txt stamp=.venv/.duet-requirements
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "Python environment: up to date (.venv)"
    return
  fi
  local py=${DUET_BASE_PYTHON:-python3}
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  log "Python environment: installing tools/requirements.txt (llama-cpp-python builds llama.cpp from source: several minutes the first time)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}

install_debian_packages
setup_python_env
