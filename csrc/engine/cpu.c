/* cpu.c — choose the kernel level at run time (cpuid via the compiler's
 * builtins), honouring FLINT_KERNELS=ref|avx2|avx512. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"

extern const kq_ops kq_avx2_ops;
extern const kq_ops kq_avx512_ops;
extern const kq_vec_ops kq_ref_vec, kq_avx2_vec, kq_avx512_vec;

static int active = KQ_REF;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cpu_has(int level) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (level == KQ_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (level == KQ_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    return level == KQ_REF;
}

const char *kq_level_name(int level) {
    static const char *names[KQ_NLEVELS] = {"ref", "avx2", "avx512"};
    return level >= 0 && level < KQ_NLEVELS ? names[level] : "?";
}

const kq_ops *kq_level(int level) {
    if (!cpu_has(level)) return NULL;
    switch (level) {
    case KQ_REF: return &kq_ref_ops;
    case KQ_AVX2: return &kq_avx2_ops;
    case KQ_AVX512: return &kq_avx512_ops;
    }
    return NULL;
}

static void pick(void) {
    const char *force = getenv("FLINT_KERNELS");
    active = KQ_REF;
    for (int l = KQ_NLEVELS - 1; l > KQ_REF; l--)
        if (cpu_has(l)) { active = l; break; }
    if (force && *force) {
        int want = -1;
        for (int l = 0; l < KQ_NLEVELS; l++)
            if (!strcmp(force, kq_level_name(l))) want = l;
        if (want < 0 || !cpu_has(want))
            fprintf(stderr, "flint: FLINT_KERNELS=%s is not available on this CPU; using %s\n", force,
                    kq_level_name(active));
        else
            active = want;
    }
}

void kq_init(void) { pthread_once(&once, pick); }

int kq_set_level(int level) {
    kq_init();
    if (level < 0 || level >= KQ_NLEVELS || !cpu_has(level)) return -1;
    active = level;
    return 0;
}

int kq_active_level(void) {
    kq_init();
    return active;
}

const kq_ops *kq_for_type(uint32_t wt) {
    kq_init();
    const kq_ops *o = kq_level(active);
    if (o && o->supports(wt)) return o;
    return &kq_ref_ops;
}

const kq_vec_ops *kq_vec(void) {
    kq_init();
    switch (active) {
    case KQ_AVX2: return &kq_avx2_vec;
    case KQ_AVX512: return &kq_avx512_vec;
    }
    return &kq_ref_vec;
}
