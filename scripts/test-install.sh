#!/usr/bin/env bash
# The installers as an agent's computer gets them: checks what the .deb and the .rpm built by
# scripts/package.sh declare, installs the .deb on this machine, starts the installed app from
# its installed path on the desktop, checks its window and its log, then removes the package
# and checks that nothing of it is left. Prints the packages' sizes and the installed size.
# Run it inside scripts/with-desktop.sh, as root or with sudo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
fail() {
  echo "install test: $*" >&2
  exit 1
}
[ -n "${DISPLAY:-}" ] || fail "no DISPLAY: run it inside scripts/with-desktop.sh"

shopt -s nullglob
debs=(dist/*.deb)
rpms=(dist/*.rpm)
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in dist/, found ${#debs[@]}: run scripts/package.sh"
[ ${#rpms[@]} -eq 1 ] || fail "expected one .rpm in dist/, found ${#rpms[@]}: run scripts/package.sh"
deb="${debs[0]}" rpm="${rpms[0]}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"

echo "==> What the .deb declares"
package="$(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "the .deb's version is not $version"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
for need in libwebkit2gtk-4.1-0 libgtk-3-0 appindicator3-1 xdg-utils; do
  grep -q "$need" <<<"$depends" || fail "the .deb does not depend on $need"
done
contents="$(dpkg-deb -c "$deb")"
for path in usr/bin/huddle usr/share/applications/Huddle.desktop \
  usr/share/icons/hicolor/128x128/apps/huddle.png; do
  grep -Eq " (\./)?$path\$" <<<"$contents" || fail "the .deb has no /$path"
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/deb"
desktop="$work/deb/usr/share/applications/Huddle.desktop"
desktop-file-validate "$desktop" || fail "the desktop entry is not valid"
grep -q '^Exec=huddle$' "$desktop" || fail "the desktop entry does not start huddle"
grep -q '^Categories=.*InstantMessaging' "$desktop" || fail "the desktop entry is not filed as IM"

echo "==> What the .rpm declares"
[ "$(rpm -qp --queryformat '%{NAME} %{VERSION}' "$rpm" 2>/dev/null)" = "huddle $version" ] ||
  fail "the .rpm is not huddle $version"
requires="$(rpm -qp --requires "$rpm" 2>/dev/null)"
for need in libwebkit2gtk-4.1.so.0 libgtk-3.so.0 xdg-utils; do
  grep -q "$need" <<<"$requires" || fail "the .rpm does not require $need"
done
rpm -qlp "$rpm" 2>/dev/null | grep -qx /usr/bin/huddle || fail "the .rpm has no /usr/bin/huddle"

if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
  fail "$package is already installed here; this test installs and removes it, so remove it first"
fi

echo "==> Installing $deb"
remove() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$package" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap remove EXIT
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "$root/$deb" >/dev/null
installed_kib="$(dpkg-query -W -f='${Installed-Size}' "$package")"
[ -x /usr/bin/huddle ] || fail "/usr/bin/huddle is not installed"

echo "==> Starting /usr/bin/huddle"
profile="$work/profile"
mkdir -p "$profile"
XDG_CONFIG_HOME="$profile/config" XDG_DATA_HOME="$profile/data" XDG_CACHE_HOME="$profile/cache" \
  /usr/bin/huddle >"$work/app.log" 2>&1 &
app=$!
window=""
for _ in $(seq 300); do
  kill -0 "$app" 2>/dev/null || fail "the installed app exited: $(cat "$work/app.log")"
  for id in $(xdotool search --pid "$app" --name '^Huddle$' 2>/dev/null); do
    if xprop -id "$id" WM_STATE 2>/dev/null | grep -q Normal; then window="$id"; fi
  done
  [ -n "$window" ] && break
  sleep 0.1
done
[ -n "$window" ] || fail "the installed app showed no Huddle window in 30 s"
[ "$(readlink "/proc/$app/exe")" = /usr/bin/huddle ] || fail "the app did not run from /usr/bin/huddle"
geometry="$(xdotool getwindowgeometry "$window" | sed -n 's/.*Geometry: //p')"
wm_class="$(xprop -id "$window" WM_CLASS | sed 's/.*= //')"
echo "window $window: $geometry, WM_CLASS $wm_class"
logs="$profile/data/app.huddle.desktop/logs"
# The page reports when it painted and took input; the log has it.
for _ in $(seq 300); do
  grep -qs "window ready window=main" "$logs"/huddle.*.log && break
  sleep 0.1
done
grep -qs "window ready window=main" "$logs"/huddle.*.log ||
  fail "the installed app's main window did not report ready in $logs: $(cat "$logs"/huddle.*.log 2>/dev/null)"
grep -h "window ready" "$logs"/huddle.*.log
mkdir -p "${HUDDLE_ARTIFACTS:-artifacts}"
import -window root "${HUDDLE_ARTIFACTS:-artifacts}/installed-app.png"
kill "$app"
wait "$app" 2>/dev/null || true

echo "==> Removing $package"
as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$package" >/dev/null
trap 'rm -rf "$work"' EXIT
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'installed'; then
  fail "$package is still installed"
fi
for path in /usr/bin/huddle /usr/share/applications/Huddle.desktop; do
  [ ! -e "$path" ] || fail "$path is left after removal"
done

printf '\nInstallers of Huddle %s:\n' "$version"
printf '  %-40s %6s KiB\n' "$(basename "$deb")" "$(($(stat -c %s "$deb") / 1024))"
printf '  %-40s %6s KiB\n' "$(basename "$rpm")" "$(($(stat -c %s "$rpm") / 1024))"
printf '  %-40s %6s KiB\n' "installed (dpkg Installed-Size)" "$installed_kib"
