#!/usr/bin/env bash
# Installs whatever the build, the demo and the tests need and is missing; with --build, only
# what building needs (the release workflow). Idempotent: when everything is present it only
# checks and returns.
set -euo pipefail

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root_dir/scripts/env.sh"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# What building the app, the hub and their installers needs.
apt_packages=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
  libdbus-1-dev
)
# What the demo and the tests need beside: a virtual desktop, D-Bus, a keychain, WebDriver,
# window tools, the accessibility bus (the demo's test reads the windows through it), GNOME's
# settings and their command (the desktop's do-not-disturb in the tests), libunity (the
# launcher count, which docks show on Huddle's icon), an English spelling dictionary, the
# package tools of the install test, promtool (in prometheus) for the alerting rules, and
# PostgreSQL, whose throwaway clusters the hub's tests start themselves.
if [ "${1:-}" != "--build" ]; then
  apt_packages+=(
    xvfb openbox dbus dbus-x11 webkit2gtk-driver gnome-keyring libsecret-tools
    xdotool wmctrl x11-utils imagemagick
    python3-dbus python3-gi keyutils at-spi2-core gir1.2-atspi-2.0
    libglib2.0-bin gsettings-desktop-schemas libunity9 hunspell-en-us
    rpm desktop-file-utils
    prometheus postgresql
  )
fi

missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "deps: installing the Rust toolchain (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
fi
# sqlx needs a recent compiler; see rust-version in Cargo.toml.
need_rust="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$root_dir/Cargo.toml")"
have_rust="$(rustc --version | cut -d' ' -f2)"
if [ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -n1)" != "$need_rust" ]; then
  echo "deps: Rust $have_rust is older than $need_rust; updating"
  rustup update stable
fi
for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$c"
  fi
done

if [ "${1:-}" != "--build" ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "deps: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
# cargo-deny checks the dependency tree's licenses, crates and sources (deny.toml); an older
# one than this may not read that configuration.
deny_version=0.20.2
have_deny="$(cargo deny --version 2>/dev/null | cut -d' ' -f2 || true)"
if [ "${1:-}" != "--build" ] &&
  [ "$(printf '%s\n%s\n' "$deny_version" "$have_deny" | sort -V | head -n1)" != "$deny_version" ]; then
  echo "deps: installing cargo-deny $deny_version"
  cargo install cargo-deny --version "$deny_version" --locked
fi

# The UI's tools need Node.js 20.19 or newer; Debian 12's own is 18. The npm registry's
# `node` package carries newer builds.
node_major="$(node -p 'process.versions.node.split(".").map(Number).reduce((a, b, i) => i < 2 ? a * 1000 + b : a)' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20019 ]; then
  echo "deps: Node.js $(node --version 2>/dev/null) is too old; installing Node.js 22 from the npm registry"
  as_root npm install -g --no-audit --no-fund node@22
  hash -r
fi

# npm ci only when the lock file changed since the last install.
ui="$root_dir/ui"
stamp="$ui/node_modules/.huddle-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$ui/package-lock.json" "$stamp"; then
  echo "deps: installing the UI's npm packages"
  (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ui/package-lock.json" "$stamp"
fi
