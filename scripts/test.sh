#!/usr/bin/env bash
# Builds everything and runs every test (ctest) in one preset (default: debug).
# Usage: scripts/test.sh [PRESET]   PRESET is one of CMakePresets.json: debug, release,
# clang, asan, tsan. Installs missing Debian packages first (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-debug}"
scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j2
