#!/usr/bin/env bash
# Runs the libFuzzer targets (preset `fuzz`) for a bounded time each, seeded with the
# corpus. Usage: tests/libfuzzer/run.sh SECONDS [TARGET...]   (default: both targets)
# A crash, leak, timeout or out-of-memory leaves its input in build/fuzz/findings/ and
# exits non-zero. The working corpus lives in build/fuzz/corpus/ (not in the tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:?usage: tests/libfuzzer/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_parser fuzz_model)
mkdir -p build/fuzz/findings
for t in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$t"
  mkdir -p "$corpus"
  find traces tests/hostile -name '*.trace' | while read -r f; do cp -n "$f" "$corpus/$(echo "${f#*/}" | tr / _)"; done
  echo "libfuzzer: $t for ${seconds}s" >&2
  # Every input is bounded: 64 KiB, 10 s, 2 GiB of memory.
  log="build/fuzz/$t.log"
  rc=0
  build/fuzz/tests/libfuzzer/"$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -dict=tests/libfuzzer/trace.dict -artifact_prefix=build/fuzz/findings/"$t"- -print_final_stats=1 \
    "$corpus" >"$log" 2>&1 || rc=$?
  grep -E '^(stat::|#[0-9]+.*DONE|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' "$log" >&2 || true
  if [ "$rc" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "libfuzzer: $t failed (exit $rc); its input is in build/fuzz/findings/" >&2
    exit "$rc"
  fi
done
