#!/usr/bin/env bash
# The hub load benchmark: builds the hub and the load generator (release) and runs
# huddle-load with the given arguments (`--help` lists them; the defaults are the budgets'
# 10,000 agents). Prints the hub's figures beside the bare relay's, and the budgets.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
cargo build --release --locked -p huddle-hub -p huddle-bench --bins
# Every agent is a connection on each side: allow as many open files as the system lets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$CARGO_TARGET_DIR/release/huddle-load" "$@"
