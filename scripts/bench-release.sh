#!/usr/bin/env bash
# Builds the hub and the benchmarks (release) and runs the benchmark binary named first with
# the arguments that follow, with as many open files as the system lets (thousands of
# sockets on each side).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
cargo build --release --locked -p huddle-hub -p huddle-bench --bins
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bin="$1"
shift
exec "$CARGO_TARGET_DIR/release/$bin" "$@"
