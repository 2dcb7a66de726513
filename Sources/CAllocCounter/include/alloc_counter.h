#ifndef VIGIL_ALLOC_COUNTER_H
#define VIGIL_ALLOC_COUNTER_H
#include <stdint.h>
// Counts heap allocations made by the whole process (glibc only) while enabled.
// Linked into the `vigil` executable only: its malloc family overrides glibc's for every library
// in the process and forwards to glibc's __libc_* entry points.
void vigil_alloc_counter_enable(int enabled);
int64_t vigil_alloc_counter_count(void);
int vigil_alloc_counter_available(void);
#endif
