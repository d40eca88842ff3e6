#!/usr/bin/env bash
# The @kernel audit: the corpus on the model under every kernel profile the model tells
# apart (each boundary of model/profile.cpp for_version, and this machine's kernel). Every
# trace must pass or be skipped as outside its @kernel range.
# Usage: corpus_profiles.sh EPOLL_ORACLE TRACES_DIR
set -euo pipefail
oracle=$1
traces=$2
# Besides the boundaries: the Debian kernels of the matrix (5.10, 6.1, 6.12) and the newest known (7.2).
# The stable backports of model/profile.h changes:: on each side (5.10.55/56/62, 6.1.148/149,
# 6.12.42/43) and the guests' versions (5.10.262, 6.1.192, 6.12.117, 7.2.13).
profiles=(5.5 5.7 5.8 5.10 5.10.55 5.10.56 5.10.62 5.10.262 5.11 5.13 5.14 5.15 6.1 6.1.148 6.1.149 6.1.192 6.8 6.9
          6.10 6.12 6.12.42 6.12.43 6.12.117 6.13 6.14 6.15 6.16 6.17 7.2 7.2.13 "$(uname -r)")
total_passed=0 total_skipped=0 runs=0 bad=0
for p in "${profiles[@]}"; do
  out=$("$oracle" check --on model --profile "$p" --color never "$traces" 2>&1) && rc=0 || rc=$?
  summary=$(grep -E '^[0-9]+ traces; model: ' <<<"$out" || true)
  if [[ $rc -ne 0 || -z $summary ]]; then
    echo "profile $p: exit $rc"
    grep -E '^FAIL |epoll-oracle:' <<<"$out" || tail -5 <<<"$out"
    bad=1
    continue
  fi
  read -r n passed failed skipped < <(sed -E 's/^([0-9]+) traces; model: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3 \4/' <<<"$summary")
  echo "profile $p: $n traces, $passed passed, $skipped skipped, $failed failed"
  if [[ $failed -ne 0 || $((passed + skipped)) -ne $n ]]; then bad=1; fi
  total_passed=$((total_passed + passed)) total_skipped=$((total_skipped + skipped)) runs=$((runs + n))
done
echo "${#profiles[@]} profiles: $runs trace runs, $total_passed passed, $total_skipped skipped"
exit $bad
