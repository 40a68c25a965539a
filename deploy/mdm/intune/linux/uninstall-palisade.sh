#!/usr/bin/env bash
# Removes the Palisade agent service, its settings (the agent key) and spool, and the binary.
set -euo pipefail
prefix="${PALISADE_PREFIX:-/usr/local}"
if [ -x "$prefix/bin/palisade" ]; then "$prefix/bin/palisade" agent uninstall --purge || true; fi
rm -f "$prefix/bin/palisade"
rm -rf /etc/palisade
