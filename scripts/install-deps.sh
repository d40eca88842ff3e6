#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need, only those missing.
# Run as root (or with sudo available). Safe to run again: it does nothing when all are present.
set -euo pipefail
packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libboost-dev libcli11-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  jq time  # the bad-input suite (tests/hostile): JSON validity, max RSS
  qemu-system-x86 lz4 zstd xz-utils binutils  # `kernels`: guests under TCG, vmlinux out of vmlinuz, strip
  gnuplot-nox  # charts (oracle/plot): gnuplot's SVG terminal
  chromium     # the charts rendered headless (test_chart_render); 23 packages, 124 MB, 23 s to fetch and install here
  patch  # tests/planted: each planted bug is a patch applied to a copy of one model file
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
