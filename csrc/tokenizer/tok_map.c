/* tok_map.c — the tokenizer's containers: byte arena, string map, id-pair map,
 * word cache. All open addressing with linear probing, load factor <= 1/2. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

int64_t tok_arena_add(tok_arena *a, const void *s, size_t n) {
    if (a->n + n > UINT32_MAX) return -1;
    if (a->n + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->n + n + 1) cap *= 2;
        char *p = realloc(a->p, cap);
        if (!p) return -1;
        a->p = p;
        a->cap = cap;
    }
    if (n) memcpy(a->p + a->n, s, n);
    int64_t off = (int64_t)a->n;
    a->n += n;
    a->p[a->n] = 0;
    return off;
}

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

uint32_t tok_hash(const void *s, size_t n) {
    const unsigned char *p = s;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w) * 0x9fb21c651e98df25ull;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n) memcpy(&w, p, n);
    return (uint32_t)mix64(h ^ w ^ ((uint64_t)n << 56));
}

/* ---- string map ---- */

int32_t tok_smap_get(const tok_smap *m, const char *arena, const char *s, size_t n) {
    if (!m->cap) return -1;
    uint32_t h = tok_hash(s, n);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tok_sslot *e = &m->slot[i];
        if (e->len == UINT32_MAX) return -1;
        if (e->hash == h && e->len == n && (!n || !memcmp(arena + e->off, s, n))) return e->val;
    }
}

static int smap_grow(tok_smap *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    tok_sslot *ns = fl_malloc_array(cap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < cap; i++) ns[i].len = UINT32_MAX;
    for (size_t i = 0; i < m->cap; i++) {
        tok_sslot *e = &m->slot[i];
        if (e->len == UINT32_MAX) continue;
        size_t j = e->hash & (cap - 1);
        while (ns[j].len != UINT32_MAX) j = (j + 1) & (cap - 1);
        ns[j] = *e;
    }
    free(m->slot);
    m->slot = ns;
    m->cap = cap;
    return 0;
}

int tok_smap_put(tok_smap *m, const char *arena, uint32_t off, uint32_t len, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && smap_grow(m)) return -1;
    uint32_t h = tok_hash(arena + off, len);
    size_t i = h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        tok_sslot *e = &m->slot[i];
        if (e->len == UINT32_MAX) break;
        if (e->hash == h && e->len == len && !memcmp(arena + e->off, arena + off, len)) {
            e->val = val;
            return 0;
        }
    }
    m->slot[i] = (tok_sslot){h, off, len, val};
    m->n++;
    return 0;
}

void tok_smap_free(tok_smap *m) {
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- pair map ---- */

static inline uint64_t pkey(int32_t l, int32_t r) {
    return ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) + 1;
}

const tok_pslot *tok_pmap_get(const tok_pmap *m, int32_t l, int32_t r) {
    if (!m->cap) return NULL;
    uint64_t k = pkey(l, r);
    for (size_t i = mix64(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tok_pslot *e = &m->slot[i];
        if (e->key == k) return e;
        if (!e->key) return NULL;
    }
}

int tok_pmap_add(tok_pmap *m, int32_t l, int32_t r, int32_t rank, int32_t res) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        tok_pslot *ns = fl_calloc_array(cap, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slot[i].key) continue;
            size_t j = mix64(m->slot[i].key) & (cap - 1);
            while (ns[j].key) j = (j + 1) & (cap - 1);
            ns[j] = m->slot[i];
        }
        free(m->slot);
        m->slot = ns;
        m->cap = cap;
    }
    uint64_t k = pkey(l, r);
    size_t i = mix64(k) & (m->cap - 1);
    for (; m->slot[i].key; i = (i + 1) & (m->cap - 1))
        if (m->slot[i].key == k) return 0;
    m->slot[i] = (tok_pslot){k, rank, res};
    m->n++;
    return 0;
}

void tok_pmap_free(tok_pmap *m) {
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- word cache ---- */

/* Bounds: at most 32k words of up to 256 bytes, 1M cached ids, 4 MiB of word bytes. */
#define WCACHE_MAX_WORDS (1u << 15)
#define WCACHE_MAX_WORD  256
#define WCACHE_MAX_IDS   (1u << 20)
#define KEY_INLINE (sizeof ((struct tok_wslot *)0)->key.in)
#define IDS_INLINE (sizeof ((struct tok_wslot *)0)->ids.in / sizeof(int32_t))

static inline const char *slot_key(const tok_wcache *c, const struct tok_wslot *e) {
    return e->len <= KEY_INLINE ? e->key.in : c->keys.p + e->key.off;
}

int tok_wcache_get(const tok_wcache *c, const char *w, size_t n, const int32_t **ids, size_t *count) {
    if (!c->cap || n > WCACHE_MAX_WORD) return 0;
    uint32_t h = tok_hash(w, n);
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        const struct tok_wslot *e = &c->slot[i];
        if (e->len == UINT16_MAX) return 0;
        if (e->hash == h && e->len == n && (!n || !memcmp(slot_key(c, e), w, n))) {
            *ids = e->count <= IDS_INLINE ? e->ids.in : c->ids + e->ids.first;
            *count = e->count;
            return 1;
        }
    }
}

static void wcache_clear(tok_wcache *c) {
    c->keys.n = 0;
    c->n_ids = 0;
    c->n = 0;
    for (size_t i = 0; i < c->cap; i++) c->slot[i].len = UINT16_MAX;
}

void tok_wcache_put(tok_wcache *c, const char *w, size_t n, const int32_t *ids, size_t count) {
    if (n > WCACHE_MAX_WORD || count > WCACHE_MAX_WORD) return;
    if (!c->cap) {
        c->slot = fl_malloc_array(2 * WCACHE_MAX_WORDS, sizeof *c->slot);
        if (!c->slot) return;
        c->cap = 2 * WCACHE_MAX_WORDS;
        wcache_clear(c);
    }
    if (c->n >= WCACHE_MAX_WORDS || c->n_ids + count > WCACHE_MAX_IDS || c->keys.n + n > WCACHE_MAX_IDS * 4)
        wcache_clear(c);
    uint32_t h = tok_hash(w, n);
    size_t i = h & (c->cap - 1);
    while (c->slot[i].len != UINT16_MAX) i = (i + 1) & (c->cap - 1);
    struct tok_wslot e = {h, (uint16_t)n, (uint16_t)count, {{0}}, {{0}}};
    if (n <= KEY_INLINE) {
        if (n) memcpy(e.key.in, w, n);
    } else {
        int64_t off = tok_arena_add(&c->keys, w, n);
        if (off < 0) return;
        e.key.off = (uint32_t)off;
    }
    if (count <= IDS_INLINE) {
        if (count) memcpy(e.ids.in, ids, count * sizeof *ids);
    } else {
        if (c->n_ids + count > c->cap_ids) {
            size_t cap = c->cap_ids ? c->cap_ids : 4096;
            while (cap < c->n_ids + count) cap *= 2;
            int32_t *p = realloc(c->ids, cap * sizeof *p);
            if (!p) return;
            c->ids = p;
            c->cap_ids = cap;
        }
        memcpy(c->ids + c->n_ids, ids, count * sizeof *ids);
        e.ids.first = (uint32_t)c->n_ids;
        c->n_ids += count;
    }
    c->slot[i] = e;
    c->n++;
}

void tok_wcache_free(tok_wcache *c) {
    free(c->keys.p);
    free(c->ids);
    free(c->slot);
    memset(c, 0, sizeof *c);
}
