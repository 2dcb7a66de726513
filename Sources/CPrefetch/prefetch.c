// Header-only target: the prefetch hint lives in include/prefetch.h (static inline).
#include "prefetch.h"
