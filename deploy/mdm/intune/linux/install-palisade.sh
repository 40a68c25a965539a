#!/usr/bin/env bash
# Palisade agent for Linux, as an Intune (or any MDM's) shell script run as root:
#   1. installs the palisade single executable from PALISADE_BINARY_URL (https:// or a local
#      path), refusing it unless its SHA-256 is PALISADE_BINARY_SHA256 (from SHA256SUMS);
#   2. writes /etc/palisade/agent.json (root, 0600) with the backend URL and the agent key.
#      The key comes from PALISADE_API_KEY_FILE (a file the MDM dropped, removed after) or
#      PALISADE_API_KEY (the MDM's secret variable); it is never passed as an argument or logged;
#   3. installs and starts the systemd service (`palisade agent install`).
# Re-running it upgrades the binary and rotates the key in place.
# Settings (environment): PALISADE_SERVER, PALISADE_BINARY_URL, PALISADE_BINARY_SHA256,
#   PALISADE_API_KEY_FILE or PALISADE_API_KEY, optional PALISADE_INTERVAL (default 1h),
#   PALISADE_PREFIX (default /usr/local), PALISADE_INSTALL_ROOT (tests only: write under a folder,
#   start nothing).
set -euo pipefail
umask 077

fail() { printf 'palisade-install: %s\n' "$*" >&2; exit 1; }

: "${PALISADE_SERVER:?set PALISADE_SERVER to the backend URL (https://...)}"
: "${PALISADE_BINARY_URL:?set PALISADE_BINARY_URL to the palisade-VERSION-linux-ARCH file}"
: "${PALISADE_BINARY_SHA256:?set PALISADE_BINARY_SHA256 from the release SHA256SUMS}"
interval="${PALISADE_INTERVAL:-1h}"
prefix="${PALISADE_PREFIX:-/usr/local}"
root="${PALISADE_INSTALL_ROOT:-}"

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then fail "run as root"; fi
case "$PALISADE_SERVER" in https://*) ;; *) fail "PALISADE_SERVER must be an https:// URL";; esac
case "$PALISADE_BINARY_SHA256" in *[!0-9a-f]*|"") fail "PALISADE_BINARY_SHA256 must be 64 lowercase hex digits";; esac
[ "${#PALISADE_BINARY_SHA256}" -eq 64 ] || fail "PALISADE_BINARY_SHA256 must be 64 lowercase hex digits"

key=""
if [ -n "${PALISADE_API_KEY_FILE:-}" ]; then
  [ -r "$PALISADE_API_KEY_FILE" ] || fail "cannot read PALISADE_API_KEY_FILE"
  key="$(tr -d '[:space:]' < "$PALISADE_API_KEY_FILE")"
elif [ -n "${PALISADE_API_KEY:-}" ]; then
  key="$PALISADE_API_KEY"
fi
case "$key" in pal_*) ;; *) fail "no agent key: set PALISADE_API_KEY_FILE or PALISADE_API_KEY (it starts with pal_)";; esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
case "$PALISADE_BINARY_URL" in
  https://*) curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$work/palisade" "$PALISADE_BINARY_URL" || fail "download failed" ;;
  /*) cp "$PALISADE_BINARY_URL" "$work/palisade" ;;
  *) fail "PALISADE_BINARY_URL must be https:// or an absolute path" ;;
esac
got="$(sha256sum "$work/palisade" | cut -d' ' -f1)"
[ "$got" = "$PALISADE_BINARY_SHA256" ] || fail "checksum mismatch: refusing the binary"

bin_dir="$root$prefix/bin"
install -d -m 0755 "$bin_dir"
install -m 0755 "$work/palisade" "$bin_dir/palisade.new"
mv -f "$bin_dir/palisade.new" "$bin_dir/palisade"

# the settings file: root-only; the service reads it through a systemd credential
key_file="$work/key"
printf '%s' "$key" > "$key_file"
args=(agent install --interval "$interval" --binary "$prefix/bin/palisade" --server "$PALISADE_SERVER" --api-key-file "$key_file")
if [ -n "$root" ]; then args+=(--root "$root" --platform linux); fi
"$bin_dir/palisade" "${args[@]}"
if [ -n "${PALISADE_API_KEY_FILE:-}" ]; then rm -f "$PALISADE_API_KEY_FILE"; fi
if [ -z "$root" ]; then systemctl restart palisade-agent.service; fi
printf 'palisade-install: agent %s installed and reporting to %s\n' "$("$bin_dir/palisade" --version)" "$PALISADE_SERVER"
