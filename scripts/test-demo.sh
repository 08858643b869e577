#!/usr/bin/env bash
# The demo command as a newcomer runs it, on a free port with its own data and app profile: it
# must end with the app open and signed in as Ana, and Ben Okafor, the simulated colleague,
# online; then Ana writes to Ben through the app's windows and reads his answer, and a
# colleague's invitation reaches her. Everything it started is stopped at the end. Run it
# inside scripts/with-desktop.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh

fail() {
  echo "demo test: $*" >&2
  [ -f "${work:-}/demo.log" ] && tail -n 40 "$work/demo.log" >&2
  exit 1
}
[ -n "${DISPLAY:-}" ] || fail "no DISPLAY: run it inside scripts/with-desktop.sh"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export HUDDLE_DEMO_DIR="$work/demo" HUDDLE_DEMO_LISTEN="127.0.0.1:$port"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache"

# A session of its own, so that the demo, its hub, its colleague and its app stop together.
setsid scripts/demo.sh >"$work/demo.log" 2>&1 &
demo=$!
stop() {
  kill -TERM -- "-$demo" 2>/dev/null || true
  wait "$demo" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

# The build is warm when the installers were just built; a cold one takes minutes.
logs="$XDG_DATA_HOME/app.huddle.desktop/logs"
ready() {
  grep -qs "signed in login=ana" "$logs"/huddle.*.log &&
    grep -qs "window ready window=main" "$logs"/huddle.*.log
}
for _ in $(seq 9000); do
  ready && break
  kill -0 "$demo" 2>/dev/null || fail "the demo stopped before the app signed in"
  sleep 0.1
done
ready || fail "the app did not sign in as ana and show its main window"

# Ben answers: the directory shows him online to a colleague.
bin="$CARGO_TARGET_DIR/release"
presence=""
for _ in $(seq 100); do
  presence="$(HUDDLE_PASSWORD=huddle-demo "$bin/huddle-agent" --hub "127.0.0.1:$port" \
    --login chloe --data "$work/chloe" search Ben | awk -F'\t' '$2 == "ben" {print $4}')"
  case "$presence" in "" | Offline) sleep 0.1 ;; *) break ;; esac
done
case "$presence" in "" | Offline) fail "Ben is not online (presence: ${presence:-none})" ;; esac

shots="${HUDDLE_ARTIFACTS:-artifacts}"
mkdir -p "$shots"
import -window root "$shots/demo.png"
echo "demo test: the app is signed in as Ana, Ben is online; screenshot demo.png"

# The first experience, through the app's windows as a person uses them (clicks and keys, the
# text read back from the accessibility tree): Ana writes to Ben and reads his answer, and
# Chloé's invitation reaches her.
/usr/bin/python3 tests/support/demo_journeys.py "127.0.0.1:$port" "$bin/huddle-agent" \
  "$work/chloe" "$shots" || fail "a journey through the demo's app failed (see above)"
