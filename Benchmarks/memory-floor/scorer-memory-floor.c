// The memory traffic of the anomaly scorer's per-sensor state on workload W1, with no computation: a floor
// under what the scorer can cost per reading, to set beside W1's own cost (scripts/bench-memory-floor.sh).
//
// W1 visits its 40,000 sensors round-robin, so a sensor's state is long out of cache when its next reading
// comes. Per reading the scorer (Sources/VigilCore/Detectors/AnomalyScorer+Kernel.swift) reads and writes its
// state record (176 bytes: MemoryLayout<AnomalyScorer.SensorState>.stride) and writes one value into its ring
// of `window` doubles; every `refresh` readings of a sensor it reads the whole ring and its order bytes and
// rewrites the order. This program does exactly those loads and stores, one word per cache line touched.
//
//   gcc -O2 -o /tmp/scorer-memory-floor scorer-memory-floor.c
//   /tmp/scorer-memory-floor [readings=10000000] [sensors=40000] [window=60] [refresh=8]
// prints one JSON line with the best of three runs.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { STATE_BYTES = 176 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long readings = argc > 1 ? atol(argv[1]) : 10000000;
    long sensors = argc > 2 ? atol(argv[2]) : 40000;
    long window = argc > 3 ? atol(argv[3]) : 60;
    long refresh = argc > 4 ? atol(argv[4]) : 8;
    if (readings <= 0 || sensors <= 0 || window <= 0 || window > 255 || refresh <= 0) {
        fprintf(stderr, "usage: %s [readings>0] [sensors>0] [window 1...255] [refresh>0]\n", argv[0]);
        return 2;
    }
    uint8_t *state = calloc((size_t)sensors, STATE_BYTES);
    double *ring = calloc((size_t)(sensors * window), sizeof(double));
    uint8_t *order = calloc((size_t)(sensors * window), 1);
    int32_t *head = calloc((size_t)sensors, sizeof(int32_t));
    int32_t *since = calloc((size_t)sensors, sizeof(int32_t));
    if (!state || !ring || !order || !head || !since) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t sink = 0;
    double best = 1e300;
    for (int run = 0; run < 3; run++) {
        double start = seconds();
        long s = -1;
        for (long i = 0; i < readings; i++) {
            s = s + 1 == sensors ? 0 : s + 1;
            // The state record: one load and store per cache line it spans.
            uint8_t *st = state + s * STATE_BYTES;
            for (int line = 0; line < STATE_BYTES; line += 64) { uint64_t *w = (uint64_t *)(st + line); *w += 1; }
            // The value enters the ring.
            int32_t h = head[s];
            ring[s * window + h] = (double)i;
            head[s] = h + 1 == window ? 0 : h + 1;
            // A refresh: the whole ring and order are read, the order rewritten.
            if (since[s] == 0) {
                const uint64_t *r = (const uint64_t *)(ring + s * window);
                uint8_t *o = order + s * window;
                for (long k = 0; k < window; k += 8) sink += r[k];
                for (long k = 0; k < window; k += 64) o[k] ^= (uint8_t)sink;
            }
            since[s] = since[s] + 1 == refresh ? 0 : since[s] + 1;
        }
        double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    printf("{\"workload\":\"scorer-memory-floor\",\"readings\":%ld,\"sensors\":%ld,\"window\":%ld,\"refresh\":%ld,"
           "\"seconds\":%.6f,\"ns_per_reading\":%.2f,\"sink\":%llu}\n",
           readings, sensors, window, refresh, best, best / (double)readings * 1e9, (unsigned long long)(sink & 0xff));
    return 0;
}
