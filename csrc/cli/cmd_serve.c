/* cmd_serve.c — `flint serve [--model M] [--draft D] [--config F]
 * [--framing msgpack|json|auto] [--threads N] [--slots N] [--ctx N]
 * [--fim-order psm|spm|auto] [--prompt-chunk N] [--refactor-spec MODE] [--complete-spec MODE]
 * [--max-message BYTES] [--allowlist F] [--no-cache] [--no-heal] [--no-loop-stop]`: the editor's co-process on stdin/stdout (doc/protocol.md).
 * Settings come from the defaults, then the config file
 * (${XDG_CONFIG_HOME:-~/.config}/flint/serve.conf, or --config F), then the
 * flags. Without --model the default model is looked up next to the binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/spec.h"
#include "serve/serve.h"

static int usage(void) {
    fprintf(stderr, "usage: flint serve [--model M] [--draft D] [--config F] [--framing msgpack|json|auto] "
                    "[--threads N] [--slots N] [--ctx N] [--fim-order psm|spm|auto] [--prompt-chunk N] "
                    "[--refactor-spec MODE] [--complete-spec MODE] [--max-message BYTES] [--allowlist F] [--no-cache]\n"
                    "       [--no-heal] [--no-loop-stop]\n");
    return 2;
}

/* The default config file path into out ("" when HOME is unknown). */
static void default_config(char *out, size_t n) {
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, n, "%s/flint/serve.conf", x);
    else if (h && *h) snprintf(out, n, "%s/.config/flint/serve.conf", h);
    else out[0] = 0;
}

int cmd_serve(int argc, char **argv) {
    srv_config c;
    srv_config_defaults(&c);
    char err[FL_ERRLEN], cfg_path[1024] = "";
    int explicit_cfg = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            const char *v = arg_value(argc, argv, &i);
            if (!v) return 2;
            snprintf(cfg_path, sizeof cfg_path, "%s", v);
            explicit_cfg = 1;
        }
    if (!explicit_cfg) default_config(cfg_path, sizeof cfg_path);
    if (cfg_path[0] && srv_config_load(&c, cfg_path, !explicit_cfg, err, sizeof err) < 0) {
        fprintf(stderr, "flint serve: config %s\n", err);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!strcmp(a, "--no-cache")) { c.cache = 0; continue; }
        if (!strcmp(a, "--no-heal")) { c.heal = 0; continue; }
        if (!strcmp(a, "--no-loop-stop")) { c.loop_stop = 0; continue; }
        static const char *const with_value[] = {"--config", "--model", "-m", "--draft", "--framing", "--fim-order",
                                                 "--threads", "-t", "--slots", "--ctx", "--prompt-chunk", "--max-message",
                                                 "--refactor-spec", "--complete-spec", "--allowlist"};
        size_t k = 0;
        while (k < sizeof with_value / sizeof with_value[0] && strcmp(a, with_value[k])) k++;
        if (k == sizeof with_value / sizeof with_value[0]) return arg_unknown("serve", a);
        if (!(v = arg_value(argc, argv, &i))) return 2;
        if (!strcmp(a, "--config")) continue;
        if (!strcmp(a, "--model") || !strcmp(a, "-m")) snprintf(c.model_path, sizeof c.model_path, "%s", v);
        else if (!strcmp(a, "--draft")) snprintf(c.draft_path, sizeof c.draft_path, "%s", v);
        else if (!strcmp(a, "--allowlist")) snprintf(c.allowlist, sizeof c.allowlist, "%s", v);
        else if (!strcmp(a, "--framing")) {
            if (!strcmp(v, "msgpack")) c.framing = RPC_FRAMING_MSGPACK;
            else if (!strcmp(v, "json")) c.framing = RPC_FRAMING_JSON;
            else if (!strcmp(v, "auto")) c.framing = RPC_FRAMING_AUTO;
            else { fprintf(stderr, "flint serve: --framing must be msgpack, json or auto\n"); return 2; }
        } else if (!strcmp(a, "--fim-order")) {
            if (!strcmp(v, "psm")) c.fim_order = SRV_FIM_PSM;
            else if (!strcmp(v, "spm")) c.fim_order = SRV_FIM_SPM;
            else if (!strcmp(v, "auto")) c.fim_order = SRV_FIM_AUTO;
            else { fprintf(stderr, "flint serve: --fim-order must be psm, spm or auto\n"); return 2; }
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (arg_int(a, v, 1, 512, &x)) return 2;
            c.n_threads = (int)x;
        } else if (!strcmp(a, "--slots")) {
            if (arg_int(a, v, 1, 64, &x)) return 2;
            c.n_slots = (int)x;
        } else if (!strcmp(a, "--ctx")) {
            if (arg_int(a, v, 64, 1 << 20, &x)) return 2;
            c.n_ctx = (int)x;
        } else if (!strcmp(a, "--prompt-chunk")) {
            if (arg_int(a, v, 1, 4096, &x)) return 2;
            c.prompt_chunk = (int)x;
        } else if (!strcmp(a, "--refactor-spec") || !strcmp(a, "--complete-spec")) {
            char *dst = a[2] == 'r' ? c.refactor_spec : c.complete_spec;
            spec_params p;
            if (strlen(v) >= sizeof c.refactor_spec || spec_parse_mode(v, 1, 1, &p, err, sizeof err)) {
                fprintf(stderr, "flint serve: %s must be none, auto, or sources (ngram, draft, self) joined by '+'\n", a);
                return 2;
            }
            snprintf(dst, sizeof c.refactor_spec, "%s", v);
        } else if (!strcmp(a, "--max-message")) {
            if (arg_int(a, v, 1024, 1L << 30, &x)) return 2;
            c.max_message = (size_t)x;
        }
    }
    ssize_t n = readlink("/proc/self/exe", c.exe_path, sizeof c.exe_path - 1);
    c.exe_path[n > 0 ? n : 0] = 0;
    if (n <= 0) snprintf(c.exe_path, sizeof c.exe_path, "%s", argv[0]);
    /* Protocol bytes go to a private copy of stdout; fd 1 becomes stderr so
     * a stray printf anywhere cannot corrupt the channel. */
    int out = dup(STDOUT_FILENO);
    if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        fprintf(stderr, "flint serve: cannot set up stdout\n");
        return 1;
    }
    int rc = srv_run(&c, STDIN_FILENO, out, err, sizeof err);
    close(out);
    if (rc) fprintf(stderr, "flint serve: %s\n", err);
    return rc ? 1 : 0;
}
