/* gguf.c — GGUF v2/v3 reader. See gguf.h for the contract.
 *
 * Layout (little-endian):
 *   u32 magic "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 *   n_kv × { string key, u32 type, value },
 *   n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset },
 *   padding to `general.alignment` (default 32), tensor data.
 * A string is { u64 len, len bytes }. An array is { u32 type, u64 n, values }.
 */
#include "engine/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "engine/qtypes.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" */

typedef struct {
    const uint8_t *p;
    size_t size, off;
    char *err;
    size_t errlen;
} reader;

static int rd_bytes(reader *r, void *dst, size_t n, const char *what) {
    if (n > r->size - r->off)
        return fl_seterr(r->err, r->errlen, "gguf: %s at offset %zu runs past the end of the file (%zu bytes)",
                         what, r->off, r->size);
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return 0;
}

static int rd_u32(reader *r, uint32_t *v, const char *what) { return rd_bytes(r, v, 4, what); }
static int rd_u64(reader *r, uint64_t *v, const char *what) { return rd_bytes(r, v, 8, what); }

/* A string: the length is bounded by the bytes left in the file. */
static int rd_str(reader *r, gguf_str *s, const char *what) {
    size_t at = r->off;
    uint64_t len = 0;
    if (rd_u64(r, &len, what)) return -1;
    if (len > r->size - r->off)
        return fl_seterr(r->err, r->errlen, "gguf: %s at offset %zu has length %llu, past the end of the file",
                         what, at, (unsigned long long)len);
    s->len = len;
    s->ptr = (const char *)r->p + r->off;
    r->off += (size_t)len;
    return 0;
}

static char *str_dup(gguf_str s) {
    char *c = malloc((size_t)s.len + 1);
    if (!c) return NULL;
    memcpy(c, s.ptr, (size_t)s.len);
    c[s.len] = 0;
    return c;
}

size_t gguf_vtype_size(uint32_t t) {
    switch (t) {
    case GGUF_UINT8: case GGUF_INT8: case GGUF_BOOL: return 1;
    case GGUF_UINT16: case GGUF_INT16: return 2;
    case GGUF_UINT32: case GGUF_INT32: case GGUF_FLOAT32: return 4;
    case GGUF_UINT64: case GGUF_INT64: case GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *gguf_vtype_name(uint32_t t) {
    static const char *names[GGUF_NTYPES] = {"uint8", "int8", "uint16", "int16", "uint32", "int32",
                                              "float32", "bool", "string", "array", "uint64", "int64",
                                              "float64"};
    return t < GGUF_NTYPES ? names[t] : "unknown";
}

/* Decode one scalar of type t at p into kv->v. */
static void decode_scalar(uint32_t t, const uint8_t *p, gguf_kv *kv) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            float f32; uint64_t u64; int64_t i64; double f64; } x;
    memcpy(&x, p, gguf_vtype_size(t));
    switch (t) {
    case GGUF_UINT8: kv->v.u = x.u8; break;
    case GGUF_BOOL: kv->v.u = x.u8 != 0; break;
    case GGUF_INT8: kv->v.i = x.i8; break;
    case GGUF_UINT16: kv->v.u = x.u16; break;
    case GGUF_INT16: kv->v.i = x.i16; break;
    case GGUF_UINT32: kv->v.u = x.u32; break;
    case GGUF_INT32: kv->v.i = x.i32; break;
    case GGUF_FLOAT32: kv->v.f = x.f32; break;
    case GGUF_UINT64: kv->v.u = x.u64; break;
    case GGUF_INT64: kv->v.i = x.i64; break;
    case GGUF_FLOAT64: kv->v.f = x.f64; break;
    }
}

static int read_value(reader *r, gguf_kv *kv, const char *key) {
    size_t at = r->off;
    if (kv->type == GGUF_STRING) return rd_str(r, &kv->v.s, "string value");
    if (kv->type == GGUF_ARRAY) {
        uint64_t n;
        if (rd_u32(r, &kv->arr_type, "array type") || rd_u64(r, &n, "array count")) return -1;
        kv->arr_n = n;
        kv->arr_data = r->p + r->off;
        if (kv->arr_type == GGUF_STRING) {
            /* each string takes at least 8 bytes: bound the count before allocating */
            if (n > (r->size - r->off) / 8)
                return fl_seterr(r->err, r->errlen, "gguf: key '%s': string array count %llu at offset %zu exceeds the file",
                                 key, (unsigned long long)n, at);
            kv->arr_strs = fl_malloc_array((size_t)n, sizeof(gguf_str));
            if (!kv->arr_strs) return fl_seterr(r->err, r->errlen, "gguf: out of memory for key '%s'", key);
            for (uint64_t i = 0; i < n; i++)
                if (rd_str(r, &kv->arr_strs[i], "array string")) return -1;
            return 0;
        }
        size_t es = gguf_vtype_size(kv->arr_type);
        if (!es)
            return fl_seterr(r->err, r->errlen, "gguf: key '%s': unsupported array element type %u at offset %zu",
                             key, kv->arr_type, at);
        if (n > (r->size - r->off) / es)
            return fl_seterr(r->err, r->errlen, "gguf: key '%s': array count %llu at offset %zu exceeds the file",
                             key, (unsigned long long)n, at);
        r->off += (size_t)n * es;
        return 0;
    }
    size_t es = gguf_vtype_size(kv->type);
    if (!es)
        return fl_seterr(r->err, r->errlen, "gguf: key '%s': unknown value type %u at offset %zu", key, kv->type,
                         at - 4);
    uint8_t buf[8];
    if (rd_bytes(r, buf, es, "value")) return -1;
    decode_scalar(kv->type, buf, kv);
    return 0;
}

static int read_tensor_info(reader *r, gguf_tensor *t, uint64_t idx) {
    size_t at = r->off;
    gguf_str name;
    if (rd_str(r, &name, "tensor name")) return -1;
    if (!(t->name = str_dup(name))) return fl_seterr(r->err, r->errlen, "gguf: out of memory");
    if (rd_u32(r, &t->n_dims, "tensor n_dims")) return -1;
    if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS)
        return fl_seterr(r->err, r->errlen, "gguf: tensor %llu ('%s') at offset %zu has %u dimensions (1..%d allowed)",
                         (unsigned long long)idx, t->name, at, t->n_dims, GGUF_MAX_DIMS);
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne = 0;
        if (rd_u64(r, &ne, "tensor dimension")) return -1;
        if (ne == 0 || ne > ((uint64_t)1 << 40))
            return fl_seterr(r->err, r->errlen, "gguf: tensor '%s' dimension %u = %llu is out of range",
                             t->name, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
    }
    if (rd_u32(r, &t->type, "tensor type") || rd_u64(r, &t->offset, "tensor offset")) return -1;
    const qtype_info *qi = qtype_get(t->type);
    if (!qi)
        return fl_seterr(r->err, r->errlen, "gguf: tensor '%s' has unknown type id %u", t->name, t->type);
    if (t->ne[0] % qi->blck)
        return fl_seterr(r->err, r->errlen, "gguf: tensor '%s': row length %lld is not a multiple of the %s block (%d)",
                         t->name, (long long)t->ne[0], qi->name, qi->blck);
    size_t rows = 1, nb;
    for (int d = 1; d < GGUF_MAX_DIMS; d++)
        if (fl_mul_size(rows, (size_t)t->ne[d], &rows))
            return fl_seterr(r->err, r->errlen, "gguf: tensor '%s' size overflows", t->name);
    if (fl_mul_size((size_t)t->ne[0] / qi->blck, qi->size, &nb) || fl_mul_size(nb, rows, &nb))
        return fl_seterr(r->err, r->errlen, "gguf: tensor '%s' size overflows", t->name);
    t->nbytes = nb;
    return 0;
}

static int parse(gguf_file *f, char *err, size_t errlen) {
    reader r = {.p = f->base, .size = f->size, .off = 0, .err = err, .errlen = errlen};
    uint32_t magic = 0;
    if (rd_u32(&r, &magic, "magic")) return -1;
    if (magic != GGUF_MAGIC) return fl_seterr(err, errlen, "gguf: not a GGUF file (bad magic at offset 0)");
    if (rd_u32(&r, &f->version, "version")) return -1;
    if (f->version != 2 && f->version != 3)
        return fl_seterr(err, errlen, "gguf: unsupported version %u at offset 4 (2 and 3 are supported)", f->version);
    if (rd_u64(&r, &f->n_tensors, "tensor count") || rd_u64(&r, &f->n_kv, "metadata count")) return -1;
    /* every kv takes >= 13 bytes, every tensor info >= 25: bound counts by the file */
    if (f->n_kv > (f->size - r.off) / 13)
        return fl_seterr(err, errlen, "gguf: metadata count %llu at offset 16 exceeds what the file can hold",
                         (unsigned long long)f->n_kv);
    if (f->n_tensors > (f->size - r.off) / 25)
        return fl_seterr(err, errlen, "gguf: tensor count %llu at offset 8 exceeds what the file can hold",
                         (unsigned long long)f->n_tensors);
    f->kv = fl_calloc_array((size_t)f->n_kv, sizeof(gguf_kv));
    f->tensors = fl_calloc_array((size_t)f->n_tensors, sizeof(gguf_tensor));
    if (!f->kv || !f->tensors) return fl_seterr(err, errlen, "gguf: out of memory");

    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        gguf_str key;
        if (rd_str(&r, &key, "metadata key")) return -1;
        if (!(kv->key = str_dup(key))) return fl_seterr(err, errlen, "gguf: out of memory");
        if (rd_u32(&r, &kv->type, "metadata type")) return -1;
        if (read_value(&r, kv, kv->key)) return -1;
    }

    f->alignment = 32;
    const gguf_kv *al = gguf_find(f, "general.alignment");
    if (al) {
        if (al->type != GGUF_UINT32 || al->v.u == 0 || (al->v.u & (al->v.u - 1)) || al->v.u > 65536)
            return fl_seterr(err, errlen, "gguf: general.alignment must be a power-of-two uint32 <= 65536");
        f->alignment = (uint32_t)al->v.u;
    }

    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (read_tensor_info(&r, &f->tensors[i], i)) return -1;

    size_t data_off = r.off;
    if (data_off % f->alignment) data_off += f->alignment - data_off % f->alignment;
    if (data_off > f->size && f->n_tensors)
        return fl_seterr(err, errlen, "gguf: tensor data section (offset %zu) starts past the end of the file", data_off);
    f->data_offset = data_off;

    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->offset % f->alignment)
            return fl_seterr(err, errlen, "gguf: tensor '%s' offset %llu is not aligned to %u", t->name,
                             (unsigned long long)t->offset, f->alignment);
        size_t start, end;
        if (t->offset > SIZE_MAX || fl_add_size(data_off, (size_t)t->offset, &start) ||
            fl_add_size(start, t->nbytes, &end) || end > f->size)
            return fl_seterr(err, errlen, "gguf: tensor '%s' data [offset %llu, %zu bytes] runs past the end of the file",
                             t->name, (unsigned long long)t->offset, t->nbytes);
        t->data = f->base + start;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(f->tensors[j].name, t->name))
                return fl_seterr(err, errlen, "gguf: duplicate tensor name '%s'", t->name);
    }
    return 0;
}

int gguf_open_mem(const void *data, size_t size, gguf_file **out, char *err, size_t errlen) {
    *out = NULL;
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) return fl_seterr(err, errlen, "gguf: out of memory");
    f->base = data;
    f->size = size;
    if (parse(f, err, errlen)) {
        gguf_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int gguf_open(const char *path, gguf_file **out, char *err, size_t errlen) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fl_seterr(err, errlen, "cannot open model file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return fl_seterr(err, errlen, "model file '%s' is not a regular file", path);
    }
    if (st.st_size < 24) {
        close(fd);
        return fl_seterr(err, errlen, "gguf: '%s' is too small to be a GGUF file (%lld bytes)", path,
                         (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return fl_seterr(err, errlen, "cannot map '%s': %s", path, strerror(errno));
    if (gguf_open_mem(map, (size_t)st.st_size, out, err, errlen)) {
        munmap(map, (size_t)st.st_size);
        return -1;
    }
    (*out)->mapped = 1;
    return 0;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    if (f->kv)
        for (uint64_t i = 0; i < f->n_kv; i++) {
            free(f->kv[i].key);
            free(f->kv[i].arr_strs);
        }
    if (f->tensors)
        for (uint64_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->kv);
    free(f->tensors);
    if (f->mapped) munmap((void *)f->base, f->size);
    free(f);
}

const gguf_kv *gguf_find(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (f->kv[i].key && !strcmp(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_tensor_find(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

int gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && !memcmp(s.ptr, c, n);
}

static int is_signed(uint32_t t) { return t == GGUF_INT8 || t == GGUF_INT16 || t == GGUF_INT32 || t == GGUF_INT64; }
static int is_unsigned(uint32_t t) {
    return t == GGUF_UINT8 || t == GGUF_UINT16 || t == GGUF_UINT32 || t == GGUF_UINT64;
}

int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return 1;
    if (is_signed(kv->type)) *out = kv->v.i;
    else if (is_unsigned(kv->type) && kv->v.u <= INT64_MAX) *out = (int64_t)kv->v.u;
    else return fl_seterr(err, errlen, "gguf: key '%s' should be an integer, found %s", key, gguf_vtype_name(kv->type));
    return 0;
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, char *err, size_t errlen) {
    int64_t v;
    int rc = gguf_get_i64(f, key, &v, err, errlen);
    if (rc) return rc;
    if (v < 0 || v > UINT32_MAX)
        return fl_seterr(err, errlen, "gguf: key '%s' = %lld is out of range", key, (long long)v);
    *out = (uint32_t)v;
    return 0;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return 1;
    if (kv->type == GGUF_FLOAT32 || kv->type == GGUF_FLOAT64) *out = (float)kv->v.f;
    else if (is_signed(kv->type)) *out = (float)kv->v.i;
    else if (is_unsigned(kv->type)) *out = (float)kv->v.u;
    else return fl_seterr(err, errlen, "gguf: key '%s' should be a number, found %s", key, gguf_vtype_name(kv->type));
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, int *out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return 1;
    if (kv->type == GGUF_BOOL || is_unsigned(kv->type)) *out = kv->v.u != 0;
    else if (is_signed(kv->type)) *out = kv->v.i != 0;
    else return fl_seterr(err, errlen, "gguf: key '%s' should be a bool, found %s", key, gguf_vtype_name(kv->type));
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return 1;
    if (kv->type != GGUF_STRING)
        return fl_seterr(err, errlen, "gguf: key '%s' should be a string, found %s", key, gguf_vtype_name(kv->type));
    *out = kv->v.s;
    return 0;
}

int64_t gguf_arr_int(const gguf_kv *kv, uint64_t i) {
    gguf_kv tmp = {0};
    decode_scalar(kv->arr_type, kv->arr_data + i * gguf_vtype_size(kv->arr_type), &tmp);
    return is_unsigned(kv->arr_type) || kv->arr_type == GGUF_BOOL ? (int64_t)tmp.v.u : tmp.v.i;
}

double gguf_arr_float(const gguf_kv *kv, uint64_t i) {
    gguf_kv tmp = {0};
    decode_scalar(kv->arr_type, kv->arr_data + i * gguf_vtype_size(kv->arr_type), &tmp);
    if (kv->arr_type == GGUF_FLOAT32 || kv->arr_type == GGUF_FLOAT64) return tmp.v.f;
    return is_signed(kv->arr_type) ? (double)tmp.v.i : (double)tmp.v.u;
}
