#!/usr/bin/env bash
# Opens the demo's app signed in as Ana: her sign-in goes to the keychain as the app's
# "Remember me" keeps it, and the app starts with her hub and login, so it signs in by itself.
# Without a keychain the login form waits, filled in. Run by scripts/demo.sh.
# Usage: scripts/demo-app.sh BIN_DIR HUB PASSWORD DATA_DIR
set -euo pipefail
bin="$1" hub="$2" password="$3" data="$4"

if HUDDLE_PASSWORD="$password" "$bin/huddle-agent" --hub "$hub" --login ana --data "$data" \
  remember >/dev/null; then
  echo "Ana's sign-in is kept in the keychain: the app signs in by itself."
else
  echo "No keychain could keep Ana's sign-in: sign in with the password $password."
fi
if [ -n "${HUDDLE_DESKTOP_BUS:-}" ]; then
  echo "Virtual display $DISPLAY: take a screenshot with DISPLAY=$DISPLAY import -window root shot.png"
fi
exec "$bin/huddle" --hub "$hub" --login ana
