#!/usr/bin/env bash
# Builds Huddle's installers with Tauri's bundler, and on Linux the hub's archive: the same
# steps locally and in the release workflow. The results go to dist/, listed with their sizes.
#
# Usage: scripts/package.sh [BUNDLES]
#   BUNDLES is Tauri's comma-separated list; by default deb,rpm on Linux, nsis,msi on Windows,
#   and dmg on macOS (one universal binary for Apple silicon and Intel).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh

case "$(uname -s)" in
  Linux)
    scripts/deps.sh --build
    default_bundles=deb,rpm
    target=()
    ;;
  Darwin)
    default_bundles=dmg
    target=(--target universal-apple-darwin)
    ;;
  MINGW* | MSYS* | CYGWIN*)
    default_bundles=nsis,msi
    target=()
    ;;
  *)
    echo "package: no installers for $(uname -s)" >&2
    exit 1
    ;;
esac
bundles="${1:-$default_bundles}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"

if [ ! -d ui/node_modules ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "==> Huddle $version: $bundles"
# The bundler builds the UI (beforeBuildCommand, run in the UI's folder) and the release
# binary, then the packages.
export TAURI_APP_PATH="$root" TAURI_FRONTEND_PATH="$root/ui"
tauri_build --bundles "$bundles" ${target[@]+"${target[@]}"} -- --locked

if [ ${#target[@]} -gt 0 ]; then
  out="$CARGO_TARGET_DIR/${target[1]}/release"
else
  out="$CARGO_TARGET_DIR/release"
fi
rm -rf dist
mkdir -p dist
for kind in ${bundles//,/ }; do
  case "$kind" in
    deb) cp "$out"/bundle/deb/*.deb dist/ ;;
    rpm) cp "$out"/bundle/rpm/*.rpm dist/ ;;
    dmg) cp "$out"/bundle/dmg/*.dmg dist/ ;;
    nsis) cp "$out"/bundle/nsis/*.exe dist/ ;;
    msi) cp "$out"/bundle/msi/*.msi dist/ ;;
    *) echo "package: unknown bundle $kind" >&2; exit 1 ;;
  esac
done

# The hub runs on Linux servers: its binary with the service unit, the sample config and the
# administrator's guide.
if [ "$(uname -s)" = Linux ]; then
  cargo build --release --locked -p huddle-hub
  name="huddle-hub-$version-linux-$(uname -m)"
  stage="$(mktemp -d)"
  mkdir -p "$stage/$name"
  cp "$CARGO_TARGET_DIR/release/huddle-hub" packaging/huddle-hub.service \
    packaging/huddle-hub.toml docs/admin.md docs/integration.md "$stage/$name/"
  tar -C "$stage" -czf "dist/$name.tar.gz" "$name"
  rm -rf "$stage"
fi

echo "==> dist/"
for f in dist/*; do
  printf '%10s  %s\n' "$(du -h "$f" | cut -f1)" "$f"
done
