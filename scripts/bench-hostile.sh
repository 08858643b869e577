#!/usr/bin/env bash
# The hostile-clients benchmark: builds the hub and the generator (release) and runs
# huddle-hostile with the given arguments (`--help` lists them; the defaults are 1,000
# ordinary agents against 2,000 idle sockets, 300 password guessers and one flooding
# agent). Prints the ordinary agents' latency and the hub's memory with and without the
# attack, then a shift change, and the budgets.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
cargo build --release --locked -p huddle-hub -p huddle-bench --bins
# Thousands of sockets on each side: allow as many open files as the system lets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$CARGO_TARGET_DIR/release/huddle-hostile" "$@"
