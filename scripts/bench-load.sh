#!/usr/bin/env bash
# The hub load benchmark: huddle-load with the given arguments (`--help` lists them; the
# defaults are the budgets' 10,000 agents; `--store postgres` serves the hub from a
# PostgreSQL server of its own, started here, `--store sqlite,postgres --nodes 1,2` measures
# the hub on SQLite and on one and two PostgreSQL nodes in one run). Prints each hub's
# figures beside the bare relay's, and the budgets.
exec "$(dirname "${BASH_SOURCE[0]}")/bench-release.sh" huddle-load "$@"
