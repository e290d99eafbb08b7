/* cmd_synth.c — `flint synth --preset P [--arch A] [--layers N] --type T [--output-type T] --out F`
 * Writes a random-weight GGUF with a real model's shapes. --type q4_k makes
 * the output matrix Q6_K unless --output-type says otherwise (llama.cpp's
 * Q4_K_M convention). --arch, if given, must match the preset's architecture. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/qtypes.h"
#include "engine/synth.h"

static int type_by_name(const char *s) {
    for (uint32_t t = 0; t < QT_COUNT; t++) {
        const qtype_info *q = qtype_get(t);
        if (q && q->dequant && !strcasecmp(q->name, s)) return (int)t;
    }
    return -1;
}

int cmd_synth(int argc, char **argv) {
    const char *preset = NULL, *arch = NULL, *type = NULL, *otype = NULL, *out = NULL, *v;
    long layers = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--preset")) { if (!(preset = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--arch")) { if (!(arch = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--type")) { if (!(type = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--output-type")) { if (!(otype = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--out") || !strcmp(a, "-o")) { if (!(out = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--layers")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 4096, &layers)) return 2;
        } else return arg_unknown("synth", a);
    }
    if (!preset || !type || !out) {
        fprintf(stderr, "usage: flint synth --preset P [--layers N] --type T [--output-type T] --out F\npresets: %s\n",
                synth_preset_list());
        return 2;
    }
    const synth_preset *p = synth_find(preset);
    if (!p) {
        fprintf(stderr, "flint synth: unknown preset '%s' (known: %s)\n", preset, synth_preset_list());
        return 2;
    }
    if (arch && strcmp(arch, p->arch)) {
        fprintf(stderr, "flint synth: preset %s is architecture %s, not %s\n", preset, p->arch, arch);
        return 2;
    }
    int t = type_by_name(type), ot = otype ? type_by_name(otype) : (t == QT_Q4_K ? QT_Q6_K : t);
    if (t < 0 || ot < 0) {
        fprintf(stderr, "flint synth: unknown or unsupported type '%s'\n", t < 0 ? type : otype);
        return 2;
    }
    char err[FL_ERRLEN];
    if (synth_write(p, (int)layers, (uint32_t)t, (uint32_t)ot, out, err, sizeof err)) {
        fprintf(stderr, "flint synth: %s\n", err);
        return 1;
    }
    return 0;
}
