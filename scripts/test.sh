#!/usr/bin/env bash
# Installs whatever is missing, then runs every check and test: formatting, lints, the UI's
# type check and unit tests, and the workspace's tests, including the end-to-end suite that
# drives the real app on a virtual desktop.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
scripts/deps.sh

step() { printf '\n==> %s\n' "$*"; }

step "UI: type check, unit tests and build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

step "Rust: formatting"
cargo fmt --all -- --check

step "Rust: lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Tests (end-to-end included) on a virtual desktop"
export HUDDLE_ARTIFACTS="$root/artifacts"
scripts/with-desktop.sh cargo test --workspace --locked
echo
echo "Screenshots of the end-to-end runs: $HUDDLE_ARTIFACTS"
