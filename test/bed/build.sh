#!/usr/bin/env bash
# Builds the test bed's programs from their published Go modules and caches them
# by version outside the repository, so a warm run only checks that they exist.
#   kube:  etcd, kube-apiserver, kube-controller-manager, snapshot-controller (test/bed/go)
#   minio: the MinIO server
# Prints the cache folder of each as KEY=path lines (`build.sh keys` prints them
# without building). Concurrent runs wait on a lock: two builds of one key never race.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SKIFF_BED_CACHE:-$HOME/.cache/skiff-bed}"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
mkdir -p "$cache"

# The kube key changes whenever the module or our own command sources change.
kube_key="kube-$(cat "$here/go/go.mod" "$here/go/go.sum" "$here"/go/cmd/*/*.go | sha256sum | cut -c1-16)"
minio_key="minio-$MINIO_VERSION"

build_kube() {
  local out="$cache/$kube_key"
  [ -x "$out/bin/kube-apiserver" ] && return 0
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin" "$out.tmp/crd"
  ( cd "$here/go" &&
    go build -trimpath -ldflags='-s -w' -o "$out.tmp/bin/" \
      ./cmd/etcd \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller )
  # The snapshot CRDs ship in the client module of the same release.
  local client_dir
  client_dir="$(cd "$here/go" && go list -m -f '{{.Dir}}' github.com/kubernetes-csi/external-snapshotter/client/v8)"
  if [ -z "$client_dir" ] || [ ! -d "$client_dir" ]; then
    (cd "$here/go" && go mod download github.com/kubernetes-csi/external-snapshotter/client/v8)
    client_dir="$(cd "$here/go" && go list -m -f '{{.Dir}}' github.com/kubernetes-csi/external-snapshotter/client/v8)"
  fi
  cp "$client_dir"/config/crd/snapshot.storage.k8s.io_*.yaml "$out.tmp/crd/"
  chmod -R u+w "$out.tmp"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_minio() {
  local out="$cache/$minio_key"
  [ -x "$out/bin/minio" ] && return 0
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
  GOBIN="$out.tmp/bin" GOFLAGS=-trimpath go install -ldflags='-s -w' "github.com/minio/minio@$MINIO_VERSION"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

timed() {
  local name="$1"; shift
  local start=$SECONDS
  exec 9>"$cache/.$name.lock"
  flock 9
  "$@"
  flock -u 9
  echo "bed build: $name ready in $((SECONDS - start))s -> $cache/${name}" >&2
}

want="${1:-all}"
case "$want" in
  kube)  timed "$kube_key" build_kube ;;
  minio) timed "$minio_key" build_minio ;;
  all)
    timed "$kube_key" build_kube &
    kube_pid=$!
    timed "$minio_key" build_minio
    wait "$kube_pid"
    ;;
  keys) ;;
  *) echo "usage: build.sh [kube|minio|all|keys]" >&2; exit 2 ;;
esac
# The bed reads these (from `build.sh keys`) to find its programs.
printf 'SKIFF_BED_KUBE=%s\nSKIFF_BED_MINIO=%s\n' "$cache/$kube_key" "$cache/$minio_key"
