#!/usr/bin/env bash
# The app footprint benchmark: builds Huddle and the minimal Tauri app of benches/hello (both
# release as the installers build it, with the same Tauri from the workspace's Cargo.lock), then runs huddle-footprint with the
# given arguments (`--help` lists them) on a virtual desktop, or on this desktop with
# HUDDLE_BENCH_DESKTOP=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
scripts/deps.sh

export TAURI_APP_PATH="$root" TAURI_FRONTEND_PATH="$root/ui"
tauri_build --no-bundle -- --locked
# The baseline is a workspace of its own; the workspace's lock file pins the same Tauri.
cp Cargo.lock benches/hello/Cargo.lock
(
  cd benches/hello
  export TAURI_APP_PATH="$root/benches/hello" TAURI_FRONTEND_PATH="$root/benches/hello/dist"
  tauri_build --no-bundle
)
hello_tauri="$(sed -n '/^name = "tauri"$/{n;p}' benches/hello/Cargo.lock)"
huddle_tauri="$(sed -n '/^name = "tauri"$/{n;p}' Cargo.lock)"
if [ "$hello_tauri" != "$huddle_tauri" ]; then
  echo "bench-footprint: the baseline built with tauri $hello_tauri, Huddle with $huddle_tauri" >&2
  exit 1
fi
cargo build --release --locked -p huddle-bench --bin huddle-footprint

bin="$CARGO_TARGET_DIR/release"
run=("$bin/huddle-footprint" --huddle "$bin/huddle" --hello "$bin/huddle-bench-hello" "$@")
if [ -n "${HUDDLE_BENCH_DESKTOP:-}" ]; then
  "${run[@]}"
else
  scripts/with-desktop.sh "${run[@]}"
fi
