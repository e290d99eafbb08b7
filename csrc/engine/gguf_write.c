/* gguf_write.c — GGUF v3 writer. See gguf_write.h. */
#include "engine/gguf_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/gguf.h"
#include "engine/qtypes.h"

#define ALIGN 32

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} bytes;

typedef struct {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[4];
    const void *data;
    size_t nbytes;
} tensor_ref;

struct gguf_writer {
    bytes kv;
    uint64_t n_kv;
    tensor_ref *t;
    size_t n_t, cap_t;
    int oom;
};

static void put(bytes *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void put_str(bytes *b, const char *s) {
    size_t n = strlen(s);
    put_u64(b, n);
    put(b, s, n);
}

static void key(gguf_writer *w, const char *k, uint32_t type) {
    put_str(&w->kv, k);
    put_u32(&w->kv, type);
    w->n_kv++;
}

gguf_writer *gw_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gw_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w->kv.p);
    free(w);
}

void gw_str(gguf_writer *w, const char *k, const char *v) { key(w, k, GGUF_STRING); put_str(&w->kv, v); }
void gw_u32(gguf_writer *w, const char *k, uint32_t v) { key(w, k, GGUF_UINT32); put_u32(&w->kv, v); }
void gw_i32(gguf_writer *w, const char *k, int32_t v) { key(w, k, GGUF_INT32); put(&w->kv, &v, 4); }
void gw_f32(gguf_writer *w, const char *k, float v) { key(w, k, GGUF_FLOAT32); put(&w->kv, &v, 4); }
void gw_bool(gguf_writer *w, const char *k, int v) {
    uint8_t b = v != 0;
    key(w, k, GGUF_BOOL);
    put(&w->kv, &b, 1);
}

void gw_arr_str(gguf_writer *w, const char *k, const char *const *vals, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(&w->kv, GGUF_STRING);
    put_u64(&w->kv, n);
    for (size_t i = 0; i < n; i++) put_str(&w->kv, vals[i]);
}

void gw_arr_i32(gguf_writer *w, const char *k, const int32_t *vals, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(&w->kv, GGUF_INT32);
    put_u64(&w->kv, n);
    put(&w->kv, vals, n * 4);
}

void gw_arr_f32(gguf_writer *w, const char *k, const float *vals, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(&w->kv, GGUF_FLOAT32);
    put_u64(&w->kv, n);
    put(&w->kv, vals, n * 4);
}

void gw_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne, const void *data) {
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        tensor_ref *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) { w->oom = 1; return; }
        w->t = nt;
        w->cap_t = cap;
    }
    tensor_ref *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) { w->oom = 1; return; }
    t->type = type;
    t->n_dims = n_dims;
    size_t rows = 1;
    for (int d = 0; d < 4; d++) {
        t->ne[d] = d < n_dims ? ne[d] : 1;
        if (d) rows *= (size_t)t->ne[d];
    }
    t->data = data;
    t->nbytes = qtype_row_size(type, t->ne[0]) * rows;
    w->n_t++;
}

/* Header + metadata + tensor infos (+ padding) into b. */
static void header(gguf_writer *w, bytes *b) {
    put_u32(b, 0x46554747u);
    put_u32(b, 3);
    put_u64(b, w->n_t);
    put_u64(b, w->n_kv);
    put(b, w->kv.p, w->kv.len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        tensor_ref *t = &w->t[i];
        put_str(b, t->name);
        put_u32(b, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) put_u64(b, (uint64_t)t->ne[d]);
        put_u32(b, t->type);
        put_u64(b, off);
        off += (t->nbytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    static const uint8_t zeros[ALIGN];
    put(b, zeros, (ALIGN - b->len % ALIGN) % ALIGN);
}

int gw_finish(gguf_writer *w, uint8_t **out, size_t *len) {
    bytes b = {0};
    header(w, &b);
    static const uint8_t zeros[ALIGN];
    for (size_t i = 0; i < w->n_t && !b.oom; i++) {
        put(&b, w->t[i].data, w->t[i].nbytes);
        put(&b, zeros, (ALIGN - w->t[i].nbytes % ALIGN) % ALIGN);
    }
    if (b.oom || w->kv.oom || w->oom) { free(b.p); return -1; }
    *out = b.p;
    *len = b.len;
    return 0;
}

int gw_write_file(gguf_writer *w, const char *path, char *err, size_t errlen) {
    bytes b = {0};
    header(w, &b);
    if (b.oom || w->kv.oom || w->oom) { free(b.p); return fl_seterr(err, errlen, "gguf writer: out of memory"); }
    FILE *f = fopen(path, "wb");
    if (!f) { free(b.p); return fl_seterr(err, errlen, "cannot create '%s': %s", path, strerror(errno)); }
    int bad = fwrite(b.p, 1, b.len, f) != b.len;
    free(b.p);
    static const uint8_t zeros[ALIGN];
    for (size_t i = 0; i < w->n_t && !bad; i++) {
        size_t pad = (ALIGN - w->t[i].nbytes % ALIGN) % ALIGN;
        bad = fwrite(w->t[i].data, 1, w->t[i].nbytes, f) != w->t[i].nbytes || fwrite(zeros, 1, pad, f) != pad;
    }
    if (fclose(f) || bad) return fl_seterr(err, errlen, "cannot write '%s'", path);
    return 0;
}
