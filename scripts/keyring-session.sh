#!/usr/bin/env bash
# Starts gnome-keyring's Secret Service in the current D-Bus session with an unlocked login
# keyring, made without a prompt, so that tests can use a real keychain on a virtual desktop.
# Run it inside scripts/with-desktop.sh. Usage: scripts/keyring-session.sh [DIR]
# The keyring's files go to DIR (default: a new temporary folder), never to the user's own.
set -euo pipefail

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "keyring-session: no D-Bus session; run it inside scripts/with-desktop.sh" >&2
  exit 1
fi
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"

# With --unlock the daemon reads a password on standard input and, finding no login keyring,
# creates one with it; that avoids the prompter, which would wait for someone to type. The
# password guards only this throwaway keyring. The daemon leaves when the D-Bus session ends.
printf '%s' huddle-test-keyring |
  XDG_DATA_HOME="$dir" gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null

# Ready once the daemon owns its name and the default collection says it is unlocked. The
# name is checked first, without activating it: asking org.freedesktop.secrets itself before
# the daemon has claimed it would make D-Bus start a second daemon, one that knows nothing of
# this keyring and may find a locked one of the user's.
owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'
}
for _ in $(seq 100); do
  if owned && dbus-send --session --print-reply --dest=org.freedesktop.secrets \
    /org/freedesktop/secrets/aliases/default org.freedesktop.DBus.Properties.Get \
    string:org.freedesktop.Secret.Collection string:Locked 2>/dev/null |
    grep -q 'boolean false'; then
    exit 0
  fi
  sleep 0.1
done
echo "keyring-session: gnome-keyring did not offer an unlocked login keyring" >&2
exit 1
