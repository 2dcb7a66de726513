#!/usr/bin/env bash
# Installs the system packages Vigil needs, only when something is missing (idempotent, quiet when done).
set -euo pipefail
need=()
# chromium and chromium-driver: the dashboard test drives a real headless browser.
for pkg in librdkafka-dev liblz4-dev libzstd-dev kcat pkg-config chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}"
