#!/usr/bin/env bash
# `kernels guest-run` on this machine: a header line with uname and calibration, then one
# line with a run per trace, every line JSON (what a guest sends the host).
# Usage: kernels_guest_run.sh EPOLL_ORACLE TRACES_DIR
set -euo pipefail
out=$("$1" kernels guest-run "$2")
n=$(find "$2" -name '*.trace' | wc -l)
head -1 <<<"$out" | jq -e '.release and .version and .calibration.page_size > 0 and (.families | length) > 0' >/dev/null
runs=$(tail -n +2 <<<"$out" | jq -e -s 'map(select(.run.steps | length > 0)) | length')
[ "$runs" -eq "$n" ] || { echo "expected $n runs, got $runs"; exit 1; }
echo "guest-run: $n traces, $runs runs"
