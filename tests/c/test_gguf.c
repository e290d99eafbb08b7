/* test_gguf.c — the GGUF reader and model loader on well-formed and hostile files.
 *
 * A tiny dense llama model is built with the project's writer; it must load.
 * Then dozens of malformed variants (truncations, huge counts, bad offsets,
 * unknown types, wrong arch keys, mis-shaped tensors) must each fail with one
 * clear error line — in the library, and through `flint info` (exit 1, one
 * stderr line, no crash).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/gguf.h"
#include "engine/gguf_write.h"
#include "engine/qtypes.h"
#include "tap.h"

enum { E = 8, H = 2, HD = 4, FF = 16, V = 10 };

/* Options that break one thing in the otherwise valid tiny model. */
typedef struct {
    const char *arch;          /* NULL: "llama"; "" omits the key */
    int arch_as_u32;           /* write general.architecture as a number */
    int omit_embd, zero_heads, omit_tensor_q, q_wrong_shape, q8_bad_row, q2k_type, vocab_mismatch;
    int dup_tensor, kv_heads_3;
} variant;

static float weights[4096];

static uint8_t *build(const variant *v, size_t *len) {
    gguf_writer *w = gw_new();
    const char *arch = v->arch ? v->arch : "llama";
    if (v->arch_as_u32) gw_u32(w, "general.architecture", 7);
    else if (*arch) gw_str(w, "general.architecture", arch);
    char k[96];
#define KEY(s) (snprintf(k, sizeof k, "%s.%s", *arch ? arch : "llama", s), k)
    if (!v->omit_embd) gw_u32(w, KEY("embedding_length"), E);
    gw_u32(w, KEY("block_count"), 1);
    gw_u32(w, KEY("attention.head_count"), v->zero_heads ? 0 : H);
    gw_u32(w, KEY("attention.head_count_kv"), v->kv_heads_3 ? 3 : H);
    gw_u32(w, KEY("feed_forward_length"), FF);
    gw_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-5f);
    gw_u32(w, KEY("vocab_size"), v->vocab_mismatch ? V + 1 : V);
#undef KEY
    int64_t ne_emb[2] = {E, V}, ne_vec[1] = {E}, ne_sq[2] = {E, E}, ne_up[2] = {E, FF}, ne_dn[2] = {FF, E};
    gw_tensor(w, "token_embd.weight", QT_F32, 2, ne_emb, weights);
    gw_tensor(w, "output_norm.weight", QT_F32, 1, ne_vec, weights);
    gw_tensor(w, "blk.0.attn_norm.weight", QT_F32, 1, ne_vec, weights);
    int64_t ne_q[2] = {E, v->q_wrong_shape ? E + 1 : E};
    if (!v->omit_tensor_q) gw_tensor(w, "blk.0.attn_q.weight", QT_F32, 2, ne_q, weights);
    gw_tensor(w, "blk.0.attn_k.weight", QT_F32, 2, ne_sq, weights);
    gw_tensor(w, "blk.0.attn_v.weight", QT_F32, 2, ne_sq, weights);
    if (v->q8_bad_row) {
        int64_t ne_bad[2] = {E, E}; /* row of 8 elements: not a multiple of Q8_0's 32 */
        gw_tensor(w, "blk.0.attn_output.weight", QT_Q8_0, 2, ne_bad, weights);
    } else if (v->q2k_type) {
        int64_t ne_k[2] = {256, E};
        gw_tensor(w, "blk.0.attn_output.weight", QT_Q2_K, 2, ne_k, weights);
    } else gw_tensor(w, "blk.0.attn_output.weight", QT_F32, 2, ne_sq, weights);
    gw_tensor(w, "blk.0.ffn_norm.weight", QT_F32, 1, ne_vec, weights);
    gw_tensor(w, "blk.0.ffn_gate.weight", QT_F32, 2, ne_up, weights);
    gw_tensor(w, "blk.0.ffn_up.weight", QT_F32, 2, ne_up, weights);
    gw_tensor(w, "blk.0.ffn_down.weight", QT_F32, 2, ne_dn, weights);
    if (v->dup_tensor) gw_tensor(w, "blk.0.ffn_down.weight", QT_F32, 2, ne_dn, weights);
    uint8_t *buf = NULL;
    if (gw_finish(w, &buf, len)) buf = NULL;
    gw_free(w);
    return buf;
}

static char dir[] = "/tmp/flint-test-gguf-XXXXXX";

static const char *write_tmp(const char *name, const void *data, size_t len) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    return path;
}

/* Run `flint info` on path: exit status and number of stderr lines. */
static void run_cli(const char *path, int *status, int *lines, char *first, size_t firstlen) {
    const char *bin = getenv("FLINT_BIN");
    char cmd[1024], errpath[300];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' info --model '%s' >/dev/null 2>'%s'", bin ? bin : "build/flint", path, errpath);
    int rc = system(cmd);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
    *lines = 0;
    first[0] = 0;
    FILE *f = fopen(errpath, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        if (!*lines) snprintf(first, firstlen, "%s", line);
        (*lines)++;
    }
    if (f) fclose(f);
    first[strcspn(first, "\n")] = 0;
}

/* The file must fail to load with a message containing `want`, in the
 * library and in the CLI. */
static void expect_bad(const char *name, const void *data, size_t len, const char *want) {
    const char *path = write_tmp(name, data, len);
    char err[FL_ERRLEN] = "";
    eng_model *m = eng_model_load(path, err, sizeof err);
    CHECK(!m && strstr(err, want), "%s: rejected with \"%s\" (want \"%s\")", name, err, want);
    eng_model_free(m);
    int status, lines;
    char first[1024];
    run_cli(path, &status, &lines, first, sizeof first);
    CHECK(status == 1 && lines == 1 && strstr(first, want), "%s: flint info exits 1 with one error line (got %d, %d lines)",
          name, status, lines);
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A minimal raw header: magic, version, n_tensors, n_kv, then one kv
 * "a" = uint32 (key len 1), total 24 + 8 + 1 + 4 + 4 = 41 bytes. */
static size_t raw_header(uint8_t *b, uint32_t version, uint64_t nt, uint64_t nkv, uint32_t vtype) {
    put32(b, 0x46554747u);
    put32(b + 4, version);
    put64(b + 8, nt);
    put64(b + 16, nkv);
    put64(b + 24, 1);
    b[32] = 'a';
    put32(b + 33, vtype);
    put32(b + 37, 5);
    return 41;
}

static void format_cases(const uint8_t *good, size_t glen) {
    uint8_t b[512] = {0};
    size_t n;
    expect_bad("empty", b, 0, "too small");
    expect_bad("short", good, 20, "too small");
    memcpy(b, good, 64);
    memcpy(b, "GGML", 4);
    expect_bad("bad-magic", b, 64, "bad magic");
    n = raw_header(b, 1, 0, 1, GGUF_UINT32);
    expect_bad("version-1", b, n, "unsupported version 1");
    n = raw_header(b, 4, 0, 1, GGUF_UINT32);
    expect_bad("version-4", b, n, "unsupported version 4");
    n = raw_header(b, 3, 0, (uint64_t)1 << 60, GGUF_UINT32);
    expect_bad("huge-kv-count", b, n, "metadata count");
    n = raw_header(b, 3, (uint64_t)1 << 62, 1, GGUF_UINT32);
    expect_bad("huge-tensor-count", b, n, "tensor count");
    n = raw_header(b, 3, 0, 1, GGUF_UINT32);
    put64(b + 24, (uint64_t)1 << 40);
    expect_bad("huge-key-length", b, n, "has length");
    n = raw_header(b, 3, 0, 1, 99);
    expect_bad("unknown-value-type", b, n, "unknown value type 99");
    n = raw_header(b, 3, 0, 1, GGUF_ARRAY);
    put32(b + 37, GGUF_UINT32);
    put64(b + 41, (uint64_t)1 << 61);
    expect_bad("huge-array", b, n + 8, "array count");
    n = raw_header(b, 3, 0, 1, GGUF_ARRAY);
    put32(b + 37, GGUF_STRING);
    put64(b + 41, (uint64_t)1 << 50);
    expect_bad("huge-string-array", b, n + 8, "string array count");
    n = raw_header(b, 3, 0, 1, GGUF_ARRAY);
    put32(b + 37, 77);
    put64(b + 41, 1);
    expect_bad("array-unknown-element", b, n + 16, "unsupported array element type 77");
    n = raw_header(b, 3, 0, 1, GGUF_STRING);
    put64(b + 37, 1000);
    expect_bad("string-past-end", b, n + 8, "past the end");
    /* one tensor info after the kv: name "t", n_dims, ne..., type, offset */
    struct { const char *name; uint32_t dims; uint64_t ne0; uint32_t type; uint64_t off; const char *want; } tc[] = {
        {"tensor-zero-dims", 0, 4, QT_F32, 0, "has 0 dimensions"},
        {"tensor-five-dims", 5, 4, QT_F32, 0, "has 5 dimensions"},
        {"tensor-zero-extent", 1, 0, QT_F32, 0, "out of range"},
        {"tensor-huge-extent", 1, (uint64_t)1 << 50, QT_F32, 0, "out of range"},
        {"tensor-unknown-type", 1, 4, 200, 0, "unknown type id 200"},
        {"tensor-misaligned", 1, 4, QT_F32, 3, "not aligned"},
        {"tensor-past-end", 1, 4, QT_F32, 1 << 20, "runs past the end"},
        {"tensor-bad-block-row", 1, 33, QT_Q8_0, 0, "not a multiple"},
    };
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        memset(b, 0, sizeof b);
        n = raw_header(b, 3, 1, 1, GGUF_UINT32);
        put64(b + n, 1);
        b[n + 8] = 't';
        put32(b + n + 9, tc[i].dims);
        size_t p = n + 13;
        for (uint32_t d = 0; d < (tc[i].dims ? tc[i].dims : 0) && d < 5; d++, p += 8) put64(b + p, tc[i].ne0);
        put32(b + p, tc[i].type);
        put64(b + p + 4, tc[i].off);
        expect_bad(tc[i].name, b, 256, tc[i].want);
    }
    /* truncations of the good file at many points: never a crash, always an error */
    int all_fail = 1;
    for (size_t cut = 24; cut < glen; cut += glen / 37 + 1) {
        gguf_file *g = NULL;
        char err[FL_ERRLEN];
        if (!gguf_open_mem(good, cut, &g, err, sizeof err)) all_fail = 0;
        gguf_close(g);
    }
    CHECK(all_fail, "every truncation of a valid file is rejected");
    expect_bad("truncated-data", good, glen - 40, "runs past the end");
}

static void model_cases(void) {
    struct { const char *name; variant v; const char *want; } mc[] = {
        {"missing-arch", {.arch = ""}, "general.architecture' is missing"},
        {"arch-not-string", {.arch_as_u32 = 1}, "should be a string"},
        {"unknown-arch", {.arch = "gpt99"}, "architecture 'gpt99' is not supported"},
        {"missing-embd", {.omit_embd = 1}, "llama.embedding_length' is missing"},
        {"zero-heads", {.zero_heads = 1}, "must be positive"},
        {"kv-heads-indivisible", {.kv_heads_3 = 1}, "inconsistent"},
        {"missing-tensor", {.omit_tensor_q = 1}, "blk.0.attn_q.weight' is missing"},
        {"wrong-shape", {.q_wrong_shape = 1}, "has shape"},
        {"q8-bad-row", {.q8_bad_row = 1}, "not a multiple"},
        {"uncomputable-type", {.q2k_type = 1}, "cannot compute with"},
        {"vocab-mismatch", {.vocab_mismatch = 1}, "does not match"},
        {"duplicate-tensor", {.dup_tensor = 1}, "duplicate tensor"},
    };
    for (size_t i = 0; i < sizeof mc / sizeof mc[0]; i++) {
        size_t len;
        uint8_t *buf = build(&mc[i].v, &len);
        if (!CHECK(buf != NULL, "%s built", mc[i].name)) continue;
        expect_bad(mc[i].name, buf, len, mc[i].want);
        free(buf);
    }
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    for (size_t i = 0; i < sizeof weights / sizeof weights[0]; i++) weights[i] = (float)((i * 37) % 17) / 17.f - 0.5f;
    variant ok = {0};
    size_t len;
    uint8_t *good = build(&ok, &len);
    CHECK(good != NULL, "writer builds a tiny model");
    const char *path = write_tmp("good", good, len);
    char err[FL_ERRLEN];
    eng_model *m = eng_model_load(path, err, sizeof err);
    CHECK(m != NULL, "valid tiny model loads (%s)", m ? "ok" : err);
    if (m) {
        const eng_hparams *hp = eng_model_hparams(m);
        CHECK(hp->n_embd == E && hp->n_vocab == V && hp->n_layer == 1 && hp->tied_output, "hparams read back");
        eng_ctx *c = eng_ctx_new(m, NULL, err, sizeof err);
        float lg[V];
        int32_t t[3] = {1, 2, 3};
        CHECK(c && !eng_decode(c, t, 3, ENG_LOGITS_LAST, lg, NULL, err, sizeof err), "tiny model decodes");
        int32_t bad = V;
        CHECK(c && eng_decode(c, &bad, 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err) && strstr(err, "out of range"),
              "out-of-range token id is rejected");
        eng_ctx_free(c);
        eng_model_free(m);
    }
    format_cases(good, len);
    model_cases();
    free(good);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) NOTE("could not remove %s", dir);
    return tap_done();
}
