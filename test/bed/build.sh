#!/usr/bin/env bash
# Builds the test bed's programs from their published Go modules and caches them
# by version outside the repository, so a warm run only checks that they exist.
#   kube:  etcd, kube-apiserver, kube-controller-manager, snapshot-controller (test/bed/go)
#   minio: the MinIO server
#   velero: the Velero server and CLI and its AWS object store plugin (test/bed/velero),
#           a test peer for Velero compatibility
# Prints the cache folder of each as KEY=path lines (`build.sh keys` prints them
# without building). Concurrent runs wait on a lock: two builds of one key never race.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SKIFF_BED_CACHE:-$HOME/.cache/skiff-bed}"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
mkdir -p "$cache"

# Release builds stamp their version into the programs (GET /version of the API
# server, which backups record as the source cluster's version; the snapshot
# controller's log). A plain `go build` leaves placeholders (v0.0.0-master), so
# stamp the versions pinned in go.mod the same way.
mod_version() { sed -n "s|^[[:space:]]*$1 \(v[^ ]*\).*|\1|p" "$here/go/go.mod" | head -n1; }
k8s_version="$(mod_version k8s.io/kubernetes)"
k8s_minor="${k8s_version#v*.}"
k8s_major="${k8s_version#v}"
kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version \
-X k8s.io/component-base/version.gitMajor=${k8s_major%%.*} \
-X k8s.io/component-base/version.gitMinor=${k8s_minor%%.*} \
-X k8s.io/component-base/version.gitTreeState=clean \
-X main.version=$(mod_version github.com/kubernetes-csi/external-snapshotter/v8)"

# The kube key changes whenever the module, our own command sources or the
# stamped versions change.
kube_key="kube-$( { cat "$here/go/go.mod" "$here/go/go.sum" "$here"/go/cmd/*/*.go; echo "$kube_ldflags"; } | sha256sum | cut -c1-16)"
minio_key="minio-$MINIO_VERSION"

# Velero stamps its version into the program (`velero version`, and the version
# its backups record). controller-runtime's manager inside the server opens a
# metrics port on every interface (":8080", no flag changes it): "0" turns that
# server off, so the bed's Velero listens on loopback only, and two Velero servers
# (one per cluster) do not fight over one fixed port. The key follows the module.
velero_mod_version() { sed -n "s|^[[:space:]]*$1 \(v[^ ]*\).*|\1|p" "$here/velero/go.mod" | head -n1; }
velero_version="$(velero_mod_version github.com/vmware-tanzu/velero)"
velero_ldflags="-s -w -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$velero_version \
-X github.com/vmware-tanzu/velero/pkg/buildinfo.GitTreeState=clean \
-X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=0"
velero_key="velero-$velero_version-$( { cat "$here/velero/go.mod" "$here/velero/go.sum"; echo "$velero_ldflags"; } | sha256sum | cut -c1-12)"

build_kube() {
  local out="$cache/$kube_key"
  [ -x "$out/bin/kube-apiserver" ] && return 0
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin" "$out.tmp/crd"
  ( cd "$here/go" &&
    go build -trimpath -ldflags="$kube_ldflags" -o "$out.tmp/bin/" \
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

# nice: a cold build takes about 10 minutes of both cores; other work keeps going.
build_velero() {
  local out="$cache/$velero_key"
  [ -x "$out/bin/velero" ] && [ -x "$out/plugins/velero-plugin-for-aws" ] && return 0
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin" "$out.tmp/plugins"
  ( cd "$here/velero" &&
    nice -n 10 go build -trimpath -ldflags="$velero_ldflags" -o "$out.tmp/bin/" github.com/vmware-tanzu/velero/cmd/velero &&
    nice -n 10 go build -trimpath -ldflags='-s -w' -o "$out.tmp/plugins/" \
      github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws )
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
  velero) timed "$velero_key" build_velero ;;
  all)
    timed "$kube_key" build_kube &
    kube_pid=$!
    # Velero follows MinIO in the second lane: the kube build spends its last
    # minutes linking on one core, which leaves the other to Velero's compile.
    timed "$minio_key" build_minio
    timed "$velero_key" build_velero
    wait "$kube_pid"
    ;;
  keys) ;;
  *) echo "usage: build.sh [kube|minio|velero|all|keys]" >&2; exit 2 ;;
esac
# The bed reads these (from `build.sh keys`) to find its programs.
printf 'SKIFF_BED_KUBE=%s\nSKIFF_BED_MINIO=%s\nSKIFF_BED_VELERO=%s\n' "$cache/$kube_key" "$cache/$minio_key" "$cache/$velero_key"
