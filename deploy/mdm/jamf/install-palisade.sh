#!/bin/bash
# Palisade agent for macOS, as a Jamf Pro policy script (runs as root).
# Jamf parameters:
#   $4  backend URL (https://palisade.example.com)
#   $5  URL of palisade-VERSION-darwin-ARCH on your distribution point ({arch} is replaced by
#       arm64 or x64), or leave empty when a package already put /usr/local/bin/palisade in place
#   $6  SHA-256 of the arm64 binary   $7  SHA-256 of the x64 binary (from SHA256SUMS)
#   $8  report interval (default 1h)
# The agent key is not a script parameter (those show up in policy logs): deliver it with a
# Configuration Profile, Application & Custom Settings, preference domain com.palisade.agent,
# key "AgentKey" (Jamf keeps it encrypted and installs it root-readable under
# /Library/Managed Preferences). Also deploy palisade-pppc.mobileconfig (Full Disk Access) so
# the agent can read every user's MCP configs.
# Re-running the policy upgrades the binary and picks up a rotated key.
set -euo pipefail
umask 077

fail() { echo "palisade-install: $*" >&2; exit 1; }

server="${4:-}"
url="${5:-}"
sha_arm64="${6:-}"
sha_x64="${7:-}"
interval="${8:-1h}"
root="${PALISADE_INSTALL_ROOT:-}"   # tests only: write under a folder, start nothing
prefs="${PALISADE_MANAGED_PREFS:-/Library/Managed Preferences/com.palisade.agent.plist}"

[ -n "$root" ] || [ "$(id -u)" -eq 0 ] || fail "run as root"
case "$server" in https://*) ;; *) fail "parameter 4 must be the backend's https:// URL";; esac

case "$(uname -m)" in
  arm64) arch=arm64; sha="$sha_arm64" ;;
  x86_64) arch=x64; sha="$sha_x64" ;;
  *) fail "unsupported machine $(uname -m)" ;;
esac

# the agent key from the managed preferences (a Configuration Profile)
key="$(/usr/libexec/PlistBuddy -c 'Print :AgentKey' "$prefs" 2>/dev/null || true)"
case "$key" in pal_*) ;; *) fail "no agent key: deploy the com.palisade.agent profile with AgentKey first";; esac

bin="$root/usr/local/bin/palisade"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "$url" ]; then
  case "$sha" in *[!0-9a-f]*|"") fail "give the SHA-256 of the $arch binary (parameter 6 or 7)";; esac
  src="${url//\{arch\}/$arch}"
  case "$src" in
    https://*) curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$work/palisade" "$src" || fail "download failed" ;;
    /*) cp "$src" "$work/palisade" ;;
    *) fail "parameter 5 must be an https:// URL or an absolute path" ;;
  esac
  got="$(shasum -a 256 "$work/palisade" | awk '{print $1}')"
  [ "$got" = "$sha" ] || fail "checksum mismatch: refusing the binary"
  mkdir -p "$(dirname "$bin")"
  install -m 0755 "$work/palisade" "$bin.new"
  mv -f "$bin.new" "$bin"
fi
[ -x "$bin" ] || fail "no palisade binary at $bin"

printf '%s' "$key" > "$work/key"
mkdir -p "$root/Library/Logs/Palisade"
if [ -n "$root" ]; then
  "$bin" agent install --interval "$interval" --binary /usr/local/bin/palisade --server "$server" --api-key-file "$work/key" --root "$root" --platform darwin
else
  "$bin" agent install --interval "$interval" --binary /usr/local/bin/palisade --server "$server" --api-key-file "$work/key"
  launchctl kickstart -k system/com.palisade.agent || true
fi
echo "palisade-install: agent $("$bin" --version) installed, reporting to $server"
