#!/usr/bin/env bash
# The hostile-clients benchmark: huddle-hostile with the given arguments (`--help` lists
# them; the defaults are 1,000 ordinary agents against 2,000 idle sockets, 300 password
# guessers and one flooding agent). Prints the ordinary agents' latency and the hub's memory
# with and without the attack, then a shift change, and the budgets.
exec "$(dirname "${BASH_SOURCE[0]}")/bench-release.sh" huddle-hostile "$@"
