#include "alloc_counter.h"
#include <stdatomic.h>
#include <stddef.h>
#include <errno.h>

static _Atomic int64_t counter = 0;
static _Atomic int enabled_flag = 0;

void vigil_alloc_counter_enable(int enabled) { atomic_store_explicit(&enabled_flag, enabled, memory_order_relaxed); }
int64_t vigil_alloc_counter_count(void) { return atomic_load_explicit(&counter, memory_order_relaxed); }

#if defined(__linux__) && defined(__GLIBC__)
int vigil_alloc_counter_available(void) { return 1; }

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static inline void count_one(void) {
    if (atomic_load_explicit(&enabled_flag, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    }
}

void *malloc(size_t n) { count_one(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count_one(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count_one(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { count_one(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count_one(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    if (a < sizeof(void *) || (a & (a - 1)) != 0) return EINVAL;
    count_one();
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#else
int vigil_alloc_counter_available(void) { return 0; }
#endif
