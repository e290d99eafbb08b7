/* value.c — the arena and the rpc_val builders. See rpc.h. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "rpc/rpc.h"

struct rpc_arena_block {
    rpc_arena_block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK 4096
#define ALIGN_UP(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

/* Returned by every builder once the arena failed; never modified. */
static rpc_val oom_nil = {.type = RPC_NIL};

void *rpc_alloc(rpc_arena *a, size_t n) {
    if (a->failed) return NULL;
    if (n > SIZE_MAX / 2) { a->failed = 1; return NULL; }
    n = ALIGN_UP(n ? n : 1);
    rpc_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b) { a->failed = 1; return NULL; }
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void rpc_arena_free(rpc_arena *a) {
    rpc_arena_block *b = a->head;
    while (b) {
        rpc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->failed = 0;
}

static rpc_val *new_val(rpc_arena *a, rpc_type t) {
    rpc_val *v = rpc_alloc(a, sizeof *v);
    if (!v) return &oom_nil;
    memset(v, 0, sizeof *v);
    v->type = t;
    return v;
}

rpc_val *rpc_nil(rpc_arena *a) { return new_val(a, RPC_NIL); }

rpc_val *rpc_bool(rpc_arena *a, int b) {
    rpc_val *v = new_val(a, RPC_BOOL);
    if (v != &oom_nil) v->u.b = !!b;
    return v;
}

rpc_val *rpc_int(rpc_arena *a, int64_t i) {
    rpc_val *v = new_val(a, RPC_INT);
    if (v != &oom_nil) v->u.i = i;
    return v;
}

rpc_val *rpc_float(rpc_arena *a, double f) {
    rpc_val *v = new_val(a, RPC_FLOAT);
    if (v != &oom_nil) v->u.f = f;
    return v;
}

rpc_val *rpc_str(rpc_arena *a, const char *s, size_t len) {
    rpc_val *v = new_val(a, RPC_STR);
    if (v == &oom_nil) return v;
    char *copy = rpc_alloc(a, len + 1);
    if (!copy) return &oom_nil;
    if (len) memcpy(copy, s, len);
    copy[len] = 0;
    v->u.s.ptr = copy;
    v->u.s.len = len;
    return v;
}

rpc_val *rpc_cstr(rpc_arena *a, const char *s) { return rpc_str(a, s, strlen(s)); }

rpc_val *rpc_arr(rpc_arena *a, size_t cap_hint) {
    rpc_val *v = new_val(a, RPC_ARR);
    if (v == &oom_nil || !cap_hint) return v;
    v->u.arr.items = rpc_alloc(a, cap_hint * sizeof(rpc_val *));
    if (!v->u.arr.items) return &oom_nil;
    v->u.arr.cap = cap_hint;
    return v;
}

rpc_val *rpc_map(rpc_arena *a, size_t cap_hint) {
    rpc_val *v = new_val(a, RPC_MAP);
    if (v == &oom_nil || !cap_hint) return v;
    v->u.map.items = rpc_alloc(a, cap_hint * sizeof(rpc_pair));
    if (!v->u.map.items) return &oom_nil;
    v->u.map.cap = cap_hint;
    return v;
}

/* Grows *items (elem bytes each, *cap of them) to hold one more; 0 or -1. */
static int grow(rpc_arena *a, void **items, size_t n, size_t *cap, size_t elem) {
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 4, bytes;
    if (fl_mul_size(ncap, elem, &bytes)) { a->failed = 1; return -1; }
    void *p = rpc_alloc(a, bytes);
    if (!p) return -1;
    if (n) memcpy(p, *items, n * elem);
    *items = p;
    *cap = ncap;
    return 0;
}

void rpc_arr_push(rpc_arena *a, rpc_val *arr, rpc_val *v) {
    if (a->failed || arr->type != RPC_ARR) { a->failed = 1; return; }
    void *items = arr->u.arr.items;
    if (grow(a, &items, arr->u.arr.n, &arr->u.arr.cap, sizeof(rpc_val *))) return;
    arr->u.arr.items = items;
    arr->u.arr.items[arr->u.arr.n++] = v;
}

void rpc_map_put(rpc_arena *a, rpc_val *map, const char *key, rpc_val *v) {
    if (a->failed || map->type != RPC_MAP) { a->failed = 1; return; }
    size_t klen = strlen(key);
    char *k = rpc_alloc(a, klen + 1);
    if (!k) return;
    memcpy(k, key, klen + 1);
    void *items = map->u.map.items;
    if (grow(a, &items, map->u.map.n, &map->u.map.cap, sizeof(rpc_pair))) return;
    map->u.map.items = items;
    map->u.map.items[map->u.map.n++] = (rpc_pair){.key = k, .klen = klen, .val = v};
}

const char *rpc_type_name(rpc_type t) {
    static const char *const names[] = {"nil", "boolean", "integer", "float", "string", "array", "map"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

const rpc_val *rpc_map_get(const rpc_val *map, const char *key) {
    if (!map || map->type != RPC_MAP) return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->u.map.n; i++) {
        const rpc_pair *p = &map->u.map.items[i];
        if (p->klen == klen && !memcmp(p->key, key, klen)) return p->val;
    }
    return NULL;
}
