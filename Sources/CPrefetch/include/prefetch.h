#ifndef VIGIL_PREFETCH_H
#define VIGIL_PREFETCH_H
// A hint to the CPU to start loading the cache line at `p` for writing (no effect on results).
// Inlined into Swift callers; VigilCore's batch kernels use it for the state of readings a few places ahead.
static inline void vigil_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
#endif
