// A counting replacement of the global operator new for bench_model (alloc_count.cpp):
// while counting is on, every operator new adds its size and one call. Used as a
// cross-check of mallinfo2(), which also sees malloc's chunk overhead.
#pragma once

namespace eo_bench {

void alloc_count_start();  // zeroes the counters and starts counting
void alloc_count_stop();
long alloc_count_bytes();  // bytes asked of operator new while counting
long alloc_count_calls();

}  // namespace eo_bench
