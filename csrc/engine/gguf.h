/* gguf.h — read-only GGUF (v2/v3) files, memory-mapped.
 *
 * Every file is treated as hostile: each count, string length, offset and
 * tensor size is bounded by the file size and checked for overflow. On any
 * problem gguf_open() fails with one error line naming the field and the byte
 * offset where it was read. After a successful open, all pointers returned by
 * this module point into the mapping and stay valid until gguf_close().
 */
#ifndef FLINT_GGUF_H
#define FLINT_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum gguf_vtype {
    GGUF_UINT8 = 0, GGUF_INT8 = 1, GGUF_UINT16 = 2, GGUF_INT16 = 3,
    GGUF_UINT32 = 4, GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7,
    GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_UINT64 = 10, GGUF_INT64 = 11,
    GGUF_FLOAT64 = 12, GGUF_NTYPES
};

/* A string inside the file: not NUL-terminated. */
typedef struct {
    uint64_t len;
    const char *ptr;
} gguf_str;

typedef struct {
    char *key;              /* NUL-terminated copy of the key */
    uint32_t type;          /* enum gguf_vtype */
    union {
        uint64_t u;         /* unsigned integer types and bool */
        int64_t i;          /* signed integer types */
        double f;           /* FLOAT32 / FLOAT64 */
        gguf_str s;         /* STRING */
    } v;
    /* ARRAY only: element type, count, first element (raw, little-endian). */
    uint32_t arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;
    gguf_str *arr_strs;     /* ARRAY of STRING: the arr_n strings (allocated) */
} gguf_kv;

#define GGUF_MAX_DIMS 4

typedef struct {
    char *name;                  /* NUL-terminated copy */
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS];   /* ne[0] is the fastest-varying (row length); unused dims = 1 */
    uint32_t type;               /* ggml type id (see qtypes.h) */
    uint64_t offset;             /* relative to the data section */
    const void *data;            /* into the mapping */
    size_t nbytes;
} gguf_tensor;

typedef struct gguf_file {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint32_t alignment;
    const uint8_t *base;         /* the whole file */
    size_t size;
    size_t data_offset;          /* start of the tensor data section */
    int mapped;                  /* 1 if base is an mmap we must unmap */
} gguf_file;

/* Open and validate a GGUF file. Returns 0 and *out on success; -1 with a
 * message in err on failure (nothing to free). */
int gguf_open(const char *path, gguf_file **out, char *err, size_t errlen);

/* The same over a caller-owned buffer (fuzzing, tests). The buffer must
 * outlive the returned file. */
int gguf_open_mem(const void *data, size_t size, gguf_file **out, char *err, size_t errlen);

/* Release everything gguf_open() made. NULL is fine. */
void gguf_close(gguf_file *f);

/* Metadata lookup by exact key; NULL if absent. */
const gguf_kv *gguf_find(const gguf_file *f, const char *key);

/* Typed getters. Each returns 0 on success, 1 if the key is absent, and -1
 * (with err set) if present with an incompatible type or out of range.
 * Integers accept any integer type whose value fits; floats accept FLOAT32,
 * FLOAT64 and integers. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, char *err, size_t errlen);
int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, char *err, size_t errlen);
int gguf_get_f32(const gguf_file *f, const char *key, float *out, char *err, size_t errlen);
int gguf_get_bool(const gguf_file *f, const char *key, int *out, char *err, size_t errlen);
int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, char *err, size_t errlen);

/* Array element i of an integer/float ARRAY kv as int64 / double (caller
 * checks i < arr_n and the element type). */
int64_t gguf_arr_int(const gguf_kv *kv, uint64_t i);
double gguf_arr_float(const gguf_kv *kv, uint64_t i);

/* Tensor lookup by exact name; NULL if absent. */
const gguf_tensor *gguf_tensor_find(const gguf_file *f, const char *name);

/* Does s equal the NUL-terminated c? */
int gguf_str_eq(gguf_str s, const char *c);

/* Size in bytes of one element of a metadata value type; 0 for STRING/ARRAY/unknown. */
size_t gguf_vtype_size(uint32_t t);

const char *gguf_vtype_name(uint32_t t);

#endif
