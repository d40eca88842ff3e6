#!/usr/bin/env python3
"""Writes traces/limits/many-pipes.trace: more descriptors and poll entries than 1024.

Run once; the trace is committed with the results `epoll-oracle record` took from a kernel
(this script writes the steps, then: epoll-oracle record -i traces/limits/many-pipes.trace).
"""
import pathlib

PIPES = 600
out = pathlib.Path(__file__).resolve().parent.parent / "traces" / "limits" / "many-pipes.trace"
lines = [
    "@title  600 pipes (1200 descriptors) and a poll of 1200 entries: the limits are RLIMIT_NOFILE's, not 1024",
    "@tags   limits pipe poll",
    "# Needs RLIMIT_NOFILE above 1206 (this machine: 20000); with the common 1024 both the kernel and"
    " the model (which reads the limit) give EMFILE at pipe 510 or so.",
    "",
]
for i in range(PIPES):
    lines.append(f"pipe2(O_NONBLOCK) = [r{i}, w{i}]")
lines.append("epoll_create1(0) = ep")
lines.append(f"epoll_ctl(ep, EPOLL_CTL_ADD, r{PIPES - 1}, EPOLLIN) = 0")
lines.append(f"write(w{PIPES - 1}, 1)")
lines.append(f"write(w7, 1)")
entries = ", ".join([f"r{i}: POLLIN" for i in range(PIPES)] + [f"w{i}: 0" for i in range(PIPES)])
lines.append(f"poll([{entries}], 0)  # 1200 entries: more than 1024, fewer than RLIMIT_NOFILE")
lines.append("epoll_wait(ep, 8, 0)")
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text("\n".join(lines) + "\n")
print(out)
