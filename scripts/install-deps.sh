#!/usr/bin/env bash
# Installs the system packages Vigil needs, only when something is missing (idempotent, quiet when done).
set -euo pipefail
need=()
# chromium and chromium-driver: the dashboard test drives a real headless browser.
for pkg in librdkafka-dev liblz4-dev libzstd-dev kcat pkg-config chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "install-deps: installing ${need[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}"
fi

# noida-db, a Kafka-protocol broker that enforces transactions (the exactly-once tests), pinned, in a venv
# under .build-tools/ (out of git). The tests find it at .build-tools/noida-db/bin/noida-db.
NOIDA_VERSION=0.2.3
NOIDA_VENV="$(cd "$(dirname "$0")/.." && pwd)/.build-tools/noida-db"
if ! "$NOIDA_VENV/bin/python" -m pip show noida-db 2>/dev/null | grep -x "Version: $NOIDA_VERSION" >/dev/null; then
    echo "install-deps: installing noida-db $NOIDA_VERSION into $NOIDA_VENV"
    python3 -m venv "$NOIDA_VENV"
    "$NOIDA_VENV/bin/python" -m pip install -q --disable-pip-version-check "noida-db==$NOIDA_VERSION"
fi
