#!/bin/bash
# Jamf policy script: removes the Palisade LaunchDaemon, its settings (the agent key), spool and binary.
set -euo pipefail
if [ -x /usr/local/bin/palisade ]; then /usr/local/bin/palisade agent uninstall --purge || true; fi
rm -f /usr/local/bin/palisade
rm -rf "/Library/Application Support/Palisade" /Library/Logs/Palisade
