#!/usr/bin/env bash
# The main job: builds epoll-oracle (release) and checks the shipped corpus on the model
# and on this machine's kernel. Extra arguments go to `epoll-oracle check`
# (e.g. --format json, --tags pipe,et). Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target epoll-oracle
exec build/release/oracle/epoll-oracle check "$@"
