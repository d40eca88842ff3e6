#!/usr/bin/env bash
# The bad-input suite: hostile traces and options, each with the exit status and the
# message it must give (cases.txt). Usage: tests/hostile/run.sh EPOLL_ORACLE_BINARY
# Every case runs bounded (a hang is a failure) and must not crash: under the asan preset
# the binary is the sanitized one, so a memory error fails the case too.
set -uo pipefail
EO="$(realpath "${1:?usage: tests/hostile/run.sh EPOLL_ORACLE_BINARY}")"
H="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$H/../.." && pwd)"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
export EO H T SRC

# Inputs that cannot live in the tree.
mkfifo "$T/fifo.trace"
truncate -s 512M "$T/sparse.trace"
mkdir "$T/dir.trace"
printf '@title bad \xff\xfe byte\npipe2(0) = [r, w]\n' >"$T/not-utf8-title.trace"
printf 'pipe2(0) = [r, w]\n' >"$T/name-\xff.trace"
printf 'pipe2(0) = [r, w]\n' >"$T/a#b.trace"
printf 'sleep(60001)\n' >"$T/long-sleep.trace"
printf 'epoll_create1(0) = ep\nepoll_wait(ep, 8, 100000) = []\n' >"$T/long-timeout.trace"
printf 'pipe2(0) = [r, w]\nread(r, 1) = 1\n' >"$T/stuck.trace"
mkdir -p "$T/cwd/traces" && printf 'bogus\n' >"$T/cwd/traces/broken.trace"
# 100,000 epoll_ctl steps with distinct labels (a linear label lookup took minutes).
{ echo 'pipe2(O_NONBLOCK) = [r, w]'; echo 'epoll_create1(0) = ep'; echo 'epoll_ctl(ep, ADD, r, EPOLLIN) = 0'
  for i in $(seq 100000); do echo "epoll_ctl(ep, MOD, r, EPOLLIN, data=l$i) = 0"; done; } >"$T/labels-100k.trace"

pass=0 fail=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  IFS='|' read -r name want_exit want_text cmd <<<"$line"
  name="$(echo "$name" | xargs)" want_exit="$(echo "$want_exit" | xargs)"
  want_text="$(echo "$want_text" | sed 's/^ *//; s/ *$//')"
  out="$(cd "$T" && timeout 120 bash -c "$cmd" 2>&1)"
  rc=$?
  if [ "$rc" = "$want_exit" ] && { [ -z "$want_text" ] || grep -qE -- "$want_text" <<<"$out"; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc (want $want_exit), output:" >&2
    head -c 2000 <<<"$out" | sed 's/^/    /' >&2
    echo "    wanted: /$want_text/" >&2
  fi
done <"$H/cases.txt"
echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
