/* repack.c — the QT_Q8_0_R16 layout (repack.h): packing, the reference
 * dequantizer, and repacking a loaded model's matrices. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "engine/internal.h"
#include "engine/membudget.h"
#include "engine/qtypes.h"
#include "engine/repack.h"

/* Byte offsets inside a group of nb blocks. */
static size_t r16_d_off(int64_t b, int k) { return ((size_t)b * R16_ROWS + (size_t)k) * 2; }
static size_t r16_u_off(int64_t nb, int64_t b, int g, int k) {
    return (size_t)nb * R16_ROWS * 2 + (((size_t)b * 8 + (size_t)g) * R16_ROWS + (size_t)k) * 4;
}

void r16_dequant_row(const kq_mat *w, int64_t r, float *out) {
    const uint8_t *group = w->data + (size_t)(r - r % R16_ROWS) * w->row_bytes;
    int64_t nb = w->n_in / 32;
    int k = (int)(r % R16_ROWS);
    for (int64_t b = 0; b < nb; b++) {
        uint16_t h;
        memcpy(&h, group + r16_d_off(b, k), 2);
        float d = fl_f16_to_f32(h);
        for (int g = 0; g < 8; g++) {
            const uint8_t *u = group + r16_u_off(nb, b, g, k);
            for (int i = 0; i < 4; i++) out[b * 32 + 4 * g + i] = (float)((int)u[i] - 128) * d;
        }
    }
}

void r16_pack(const uint8_t *src, int64_t n_in, int64_t n_rows, uint8_t *dst) {
    int64_t nb = n_in / 32;
    size_t row_bytes = (size_t)nb * sizeof(blk_q8_0), group_bytes = row_bytes * R16_ROWS;
    for (int64_t j = 0; j < n_rows / R16_ROWS; j++) {
        uint8_t *G = dst + (size_t)j * group_bytes;
        for (int k = 0; k < R16_ROWS; k++) {
            const blk_q8_0 *x = (const blk_q8_0 *)(src + ((size_t)j * R16_ROWS + (size_t)k) * row_bytes);
            for (int64_t b = 0; b < nb; b++) {
                memcpy(G + r16_d_off(b, k), &x[b].d, 2);
                for (int g = 0; g < 8; g++) {
                    uint8_t *u = G + r16_u_off(nb, b, g, k);
                    for (int i = 0; i < 4; i++) u[i] = (uint8_t)(x[b].qs[4 * g + i] ^ 0x80);
                }
            }
        }
    }
}

int r16_can_pack(const kq_mat *w) {
    return w->type == QT_Q8_0 && w->n_rows % R16_ROWS == 0 && w->n_in % 32 == 0;
}

#define WEIGHTS_PER_LAYER 14

/* The i-th (from 0) of the model's matrices that matmuls read, NULL past the
 * last: the output (an output tied to the token embedding too: the embedding
 * lookup reads repacked rows; an untied embedding gains nothing), then each
 * layer's matrices (those a layer lacks have no data). */
static eng_weight *matmul_weight(eng_model *m, int i) {
    if (i == 0) return m->hp.tied_output ? &m->tok_embd : &m->output;
    int il = (i - 1) / WEIGHTS_PER_LAYER;
    if (il >= m->hp.n_layer) return NULL;
    eng_layer *ly = &m->layers[il];
    eng_weight *w[] = {&ly->wq,        &ly->wk,         &ly->wv,        &ly->wo,          &ly->ffn_gate,
                       &ly->ffn_up,    &ly->ffn_down,   &ly->router,    &ly->gate_exps,   &ly->up_exps,
                       &ly->down_exps, &ly->gate_shexp, &ly->up_shexp,  &ly->down_shexp};
    _Static_assert(sizeof w / sizeof *w == WEIGHTS_PER_LAYER, "WEIGHTS_PER_LAYER is the list's length");
    return w[(i - 1) % WEIGHTS_PER_LAYER];
}

/* Will model_repack repack w? */
static int packable(const eng_weight *w) { return w->m.data && r16_can_pack(&w->m); }

void drop_pages(const uint8_t *p, size_t n) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), lo = ((uintptr_t)p + page - 1) & ~(page - 1),
              hi = ((uintptr_t)p + n) & ~(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* Memory for a repacked matrix, on huge pages where the kernel allows
 * (transparent huge pages on request): the file mapping it replaces sits on
 * the page cache's large folios, and streaming a big model through 4 KiB
 * pages instead cost ~25% of generation speed in TLB misses (qwen3-30b-a3b
 * 12L Q8_0: 49 -> 37 tok/s). */
#define HUGE_PAGE (2u << 20)
static uint8_t *alloc_huge(size_t bytes) {
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64, n = (bytes + align - 1) & ~(align - 1);
    uint8_t *p = aligned_alloc(align, n);
    if (p && align == HUGE_PAGE) madvise(p, n, MADV_HUGEPAGE);
    return p;
}

void model_repack(eng_model *m) {
    const char *env = getenv("FLINT_REPACK");
    const kq_ops *ops = kq_level(kq_active_level());
    if ((env && !strcmp(env, "0")) || !ops || !ops->supports(QT_Q8_0_R16)) return;
    size_t total = 0;
    int n_pack = 0;
    eng_weight *e;
    for (int i = 0; (e = matmul_weight(m, i)); i++)
        if (packable(e)) total += e->mat_bytes * (size_t)e->n_mat, n_pack++;
    char err[8];
    eng_repacked *bufs = n_pack ? realloc(m->repacked, (size_t)n_pack * sizeof *bufs) : NULL;
    if (!bufs) return;
    m->repacked = bufs;
    if (mem_check(total, mem_available(), "", "", err, sizeof err)) return;
    for (int i = 0; (e = matmul_weight(m, i)); i++) {
        if (!packable(e)) continue;
        size_t bytes = e->mat_bytes * (size_t)e->n_mat;
        uint8_t *dst = alloc_huge(bytes);
        if (!dst) break; /* the rest stays as it is: still correct */
        for (int64_t x = 0; x < e->n_mat; x++)
            r16_pack(e->m.data + (size_t)x * e->mat_bytes, e->m.n_in, e->m.n_rows, dst + (size_t)x * e->mat_bytes);
        m->repacked[m->n_repacked++] = (eng_repacked){dst, e->m.data, bytes};
        if (m->gguf->mapped) drop_pages(e->m.data, bytes); /* never a caller's buffer (gguf_open_mem) */
        e->m.data = dst;
        e->m.type = QT_Q8_0_R16;
    }
    if (m->hp.tied_output) m->output = m->tok_embd;
}
