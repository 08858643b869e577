# Sourced by the project's scripts: the shared settings of every build.
# shellcheck shell=bash

# The checkout this file belongs to.
HUDDLE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# One warm target directory outside the clone, shared by every checkout and CI run.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/huddle-target}"
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) export PATH="$HOME/.cargo/bin:$PATH" ;;
esac

# Builds a desktop app with Tauri's bundler (arguments as for `tauri build`), its Rust code
# optimised for size: the app spends its time in the webview, not in its own code, and agents'
# PCs keep it on disk and in memory all day. The hub, built with plain `cargo build
# --release`, keeps full optimisation.
tauri_build() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=s "$HUDDLE_ROOT/ui/node_modules/.bin/tauri" build --ci "$@"
}
