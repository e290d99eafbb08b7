/* arch.c — the architecture table. */
#include "engine/arch.h"

#include <string.h>

static const arch_desc archs[] = {
    /* name          rope       qk_norm       norm_topk shexp granite */
    {"llama",        ROPE_NORM, QKNORM_NONE,  1,        0,    0},
    {"qwen2",        ROPE_NEOX, QKNORM_NONE,  0,        0,    0},
    {"qwen3",        ROPE_NEOX, QKNORM_HEAD,  0,        0,    0},
    {"qwen2moe",     ROPE_NEOX, QKNORM_NONE,  0,        1,    0},
    {"qwen3moe",     ROPE_NEOX, QKNORM_HEAD,  1,        0,    0},
    {"granite",      ROPE_NORM, QKNORM_NONE,  1,        0,    1},
    {"granitemoe",   ROPE_NORM, QKNORM_NONE,  1,        0,    1},
    {"olmoe",        ROPE_NEOX, QKNORM_FULL,  0,        0,    0},
};

const arch_desc *arch_find(const char *name) {
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(archs[i].name, name)) return &archs[i];
    return NULL;
}

const char *arch_supported_list(void) {
    static char list[256];
    if (!list[0])
        for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
            if (i) strcat(list, ", ");
            strcat(list, archs[i].name);
        }
    return list;
}
