#!/usr/bin/env bash
# Runs a command on a virtual desktop: an Xvfb display, the openbox window manager and a
# D-Bus session, all ended when the command ends. The end-to-end tests run inside it.
set -euo pipefail

if [ -z "${HUDDLE_DESKTOP_BUS:-}" ]; then
  exec dbus-run-session -- env HUDDLE_DESKTOP_BUS=1 "$0" "$@"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Xvfb picks a free display number itself and writes it to the given descriptor.
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/display" ] && break
  sleep 0.1
done
if [ ! -s "$work/display" ]; then
  echo "with-desktop: Xvfb did not start:" >&2
  cat "$work/xvfb.log" >&2
  exit 1
fi
export DISPLAY=":$(head -n1 "$work/display")"
dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true

openbox >"$work/openbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  wmctrl -m >/dev/null 2>&1 && break
  sleep 0.1
done

# The real Secret Service, with a throwaway login keyring, for the keychain tests.
"$(dirname "$0")/keyring-session.sh" "$work/keyring"

# Under Xvfb, WebKit's DMA-BUF renderer leaves parts of the page unpainted.
export WEBKIT_DISABLE_DMABUF_RENDERER=1
"$@"
