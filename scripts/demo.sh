#!/usr/bin/env bash
# Installs whatever is missing, builds Huddle, starts a local hub with demo agents and opens
# the app. Ctrl+C stops it all. The demo's data lives in $HUDDLE_DEMO_DIR
# (default ~/.local/share/huddle-demo) and is kept between runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
scripts/deps.sh

demo_dir="${HUDDLE_DEMO_DIR:-$HOME/.local/share/huddle-demo}"
listen="${HUDDLE_DEMO_LISTEN:-127.0.0.1:7878}"
password="huddle-demo"

echo "==> Building the UI and the release binaries"
# The same release build as the installers' (scripts/package.sh), so that one serves both.
export TAURI_APP_PATH="$root" TAURI_FRONTEND_PATH="$root/ui"
tauri_build --no-bundle -- --locked
cargo build --release --locked -p huddle-hub -p huddle-client --bins
bin="$CARGO_TARGET_DIR/release"

mkdir -p "$demo_dir"
hub=("$bin/huddle-hub" --database "$demo_dir/hub.db")
existing="$("${hub[@]}" agent list)"
while IFS='|' read -r login name; do
  if ! grep -q "^$login	" <<<"$existing"; then
    echo "$password" | "${hub[@]}" agent add "$login" --name "$name"
  fi
done <<'AGENTS'
ana|Ana Lima
ben|Ben Okafor
chloe|Chloé Martin
dev|Dev Patel
AGENTS

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The integration API's token, for the simulated contact center below; made once, kept private.
token_file="$demo_dir/integration-token"
if [ ! -s "$token_file" ]; then
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file")
fi
export HUDDLE_HUB_INTEGRATION_TOKEN="$(cat "$token_file")"
# Routing data agents do not need to see.
export HUDDLE_HUB_HIDDEN_CASE_DATA_KEYS="internal_score"

HUDDLE_HUB_LOG=warn "${hub[@]}" serve --listen "$listen" &
pids+=($!)
for _ in $(seq 100); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$listen/healthz" >/dev/null

# The contact center's side: demo customers with their history, and a call Ana has answered
# (the CTI adapter reports the pick-up as the call becoming active).
"$bin/huddle-hub" simulate --hub "http://$listen" seed-contacts >/dev/null
call_id="$("$bin/huddle-hub" simulate --hub "http://$listen" call --agent ana | awk '{print $2}')"
curl -fsS -X PATCH -H "Authorization: Bearer $HUDDLE_HUB_INTEGRATION_TOKEN" \
  -H 'Content-Type: application/json' -d '{"state":"active"}' \
  "http://$listen/integration/v1/interactions/$call_id" >/dev/null

# Ben Okafor is the simulated colleague: he accepts every IM and answers.
HUDDLE_PASSWORD="$password" "$bin/huddle-agent" --hub "$listen" --login ben --data "$demo_dir/ben" \
  bot --script scripts/demo-colleague.txt &
pids+=($!)

cat <<MSG

Huddle's demo hub is running at $listen with the agents ana, ben, chloe and dev
(password $password for all). The app opens signed in as Ana Lima.
Ben Okafor is a simulated colleague who accepts IMs and answers them.
A simulated customer call is waiting at Ana's: select it, Start Consultation, pick Ben.
Play Chloé inviting Ana:
  HUDDLE_PASSWORD=$password $bin/huddle-agent --hub $listen --login chloe --data $demo_dir/chloe invite ana --message 'Hi Ana!'
More: HUDDLE_HUB_INTEGRATION_TOKEN=\$(cat $token_file) $bin/huddle-hub simulate call --agent ana
Close the app or press Ctrl+C to stop.

MSG

app=(scripts/demo-app.sh "$bin" "$listen" "$password" "$demo_dir/ana")
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  "${app[@]}"
else
  echo "No display here: the app runs on a virtual desktop (see scripts/with-desktop.sh)."
  scripts/with-desktop.sh "${app[@]}"
fi
