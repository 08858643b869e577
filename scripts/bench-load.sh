#!/usr/bin/env bash
# The hub load benchmark: huddle-load with the given arguments (`--help` lists them; the
# defaults are the budgets' 10,000 agents). Prints the hub's figures beside the bare relay's,
# and the budgets.
exec "$(dirname "${BASH_SOURCE[0]}")/bench-release.sh" huddle-load "$@"
