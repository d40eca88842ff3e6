#!/usr/bin/env bash
# The planted-bug measure of the differential search (tests/planted, docs/FUZZ.md): runs
# `epoll-oracle fuzz` against each planted-bug variant and prints a table: found or not,
# after how many cases and seconds, shrinking time, the shrunk trace's length, and (with
# --corpus) whether the corpus alone kills the variant (`check --on model`).
#
#   scripts/planted-bugs.sh [--seconds N] [--seed S] [--corpus] [--no-build]
#                           [--bin-dir DIR] [--require BUG...] [BUG...]
#
# --seconds: the budget of each variant (default 120); --seed: fuzz's first seed (default
# 1: a table that can be replayed); BUG: variants to run (default: every tests/planted/*.patch).
# --require BUG...: exit 1 unless each of these is found and shrunk to at most 10 steps
# (the ctest planted_bugs_quick). Exit 0 otherwise; 2 on bad usage or a failed build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=120 seed=1 corpus=0 build=1 bin_dir="$here/build/debug/tests/planted"
bugs=() required=() collecting=bugs
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --corpus) corpus=1; shift ;;
    --no-build) build=0; shift ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --require) collecting=required; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "planted-bugs.sh: unknown option $1" >&2; exit 2 ;;
    *) if [[ $collecting == bugs ]]; then bugs+=("$1"); else required+=("$1"); fi; shift ;;
  esac
done
if ((${#bugs[@]} == 0)); then
  if ((${#required[@]})); then bugs=("${required[@]}")
  else for p in "$here"/tests/planted/*.patch; do bugs+=("$(basename "$p" .patch)"); done; fi
fi
if ((build)); then
  targets=()
  for b in "${bugs[@]}"; do targets+=("epoll-oracle-$b"); done
  cmake --build --preset debug -j2 --target "${targets[@]}" >&2 || { echo "planted-bugs.sh: build failed" >&2; exit 2; }
fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
printf '| bug | found | cases | seconds | shrink s | shrunk steps |%s\n' "$( ((corpus)) && echo ' corpus kills |')"
printf '|---|---|---|---|---|---|%s\n' "$( ((corpus)) && echo '---|')"
found=0 total=0 failed_required=()
for b in "${bugs[@]}"; do
  exe="$bin_dir/epoll-oracle-$b"
  [[ -x $exe ]] || { echo "planted-bugs.sh: $exe: not built" >&2; exit 2; }
  log="$log_dir/$b.log"
  rc=0
  "$exe" fuzz --seconds "$seconds" --stop-at-first --seed "$seed" --no-progress >"$log" 2>&1 || rc=$?
  total=$((total + 1))
  steps=$(sed -n 's/^DIVERGENCE (shrunk to \([0-9]*\) steps).*/\1/p' "$log" | head -1)
  read -r cases secs shrink < <(sed -n 's/^found after \([0-9]*\) cases in \([0-9.]*\) s; shrunk in \([0-9.]*\) s$/\1 \2 \3/p' "$log" | head -1) || true
  if [[ $rc == 1 && -n $steps ]]; then
    status=yes found=$((found + 1))
  elif [[ $rc == 0 ]]; then
    status=no cases=$(sed -n 's/^\([0-9]*\) cases, .*/\1/p' "$log" | tail -1) secs=$seconds shrink=- steps=-
  else
    status="error (exit $rc)" cases=- secs=- shrink=- steps=-
    tail -5 "$log" >&2
  fi
  kills=""
  if ((corpus)); then
    crc=0
    "$exe" check --on model >/dev/null 2>&1 || crc=$?
    kills=" $( ((crc == 1)) && echo yes || echo "no (exit $crc)") |"
  fi
  printf '| %s | %s | %s | %s | %s | %s |%s\n' "$b" "$status" "${cases:--}" "${secs:--}" "${shrink:--}" "${steps:--}" "$kills"
  for r in "${required[@]}"; do
    if [[ $r == "$b" ]] && { [[ $status != yes ]] || ((steps > 10)); }; then failed_required+=("$b"); fi
  done
  [[ $status == yes ]] && sed -n '/^@title/,/^# replay:/p' "$log" >"$log_dir/$b.trace"
done
echo
echo "found $found of $total (fuzz --seconds $seconds --seed $seed, each variant alone)"
if ((${#failed_required[@]})); then
  echo "planted-bugs.sh: not found, or shrunk to more than 10 steps: ${failed_required[*]}" >&2
  for b in "${failed_required[@]}"; do tail -20 "$log_dir/$b.log" >&2; done
  exit 1
fi
