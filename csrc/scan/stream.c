/* stream.c — the scan stream: buffering, candidates, holds, redaction and
 * emission (see the contract in scan.h and the detector model in
 * scan_int.h).
 *
 * Per call: new bytes go through the prefilters (secret keywords, non-ASCII
 * lead bytes) and the role's analyser; pending checks are retried; decided
 * secret matches wait until no undecided candidate can overlap them, then the
 * overlap rules keep the most specific ones; the text is emitted up to the
 * lowest hold with redaction zones replaced by markers; findings are handed
 * out once their place in the emitted text is known.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

#define HIST 512              /* bytes kept behind anything a check may reread */
#define RUN_HOLD (SECRET_LOOKBEHIND + 48)
#define UNICODE_REACH 160     /* bytes a Unicode check may read past its anchor */

typedef struct { int row; size_t a0, a1; } cand;
typedef struct { size_t pos, lb; } upend;
typedef struct { int reg, row; size_t start, end; int open, resolved, dead; } tent;
typedef struct { size_t start, end; int reg; } zone;
typedef struct { scan_finding f; int ks, ke; } rec;

struct scan_stream {
    const scan_rules *R;
    scan_role role;
    uint8_t *buf;
    size_t cap, len, base;
    int eof, done;
    uint32_t ac_state;
    size_t scanned;
    cand *cand; size_t ncand, ccand;
    upend *up; size_t nup, cup;
    tent *tent; size_t ntent, ctent;
    zone *zone; size_t nzone, czone;
    rec *rec; size_t nrec, crec;
    scan_finding *res; size_t nres, cres;
    char *out; size_t olen, ocap;
    size_t emitted, out_total, zone_end;
    size_t mark_zs, mark_out, mark_len;   /* the last marker: its zone's start, place, length */
    int halted;
    size_t halt_at;
    scan_finding halt_f;
    uint64_t recent[64];
    unsigned nrecent;
    scan_inject *inj;
    scan_prompt *pi;
    size_t an_keep, an_hold;
    int oom;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}
/* grow() for buffers of scanned text: the old block is wiped, never left
 * behind by realloc. */
static int grow_text(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc < need) nc *= 2;
    void *q = malloc(nc);
    if (!q) return 0;
    if (*p) {
        memcpy(q, *p, *cap);
        sodium_memzero(*p, *cap);
        free(*p);
    }
    *p = q;
    *cap = nc;
    return 1;
}
#define PUSH(s, arr, n, cap, val) \
    (grow((void **)&(arr), &(cap), (n) + 1, sizeof *(arr)) ? ((arr)[(n)++] = (val), 1) : ((s)->oom = 1, 0))

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* ---- decided findings ---------------------------------------------------- */

static int seen_recently(scan_stream *s, int reg, size_t a, size_t b) {
    uint64_t key = ((uint64_t)reg << 48) ^ ((uint64_t)a << 20) ^ (uint64_t)b;
    for (unsigned i = 0; i < s->nrecent && i < 64; i++)
        if (s->recent[i] == key) return 1;
    s->recent[s->nrecent++ % 64] = key;
    return 0;
}

/* Zones in (start, end, rule id) order: the first of overlapping zones names
 * their marker, whatever order they were decided in. */
static int zone_before(const scan_stream *s, const zone *x, const zone *y) {
    if (x->start != y->start) return x->start < y->start;
    if (x->end != y->end) return x->end < y->end;
    return strcmp(s->R->meta[x->reg].id, s->R->meta[y->reg].id) < 0;
}

static void add_zone(scan_stream *s, size_t a, size_t b, int reg) {
    size_t i = s->nzone;
    zone z = {a, b, reg};
    if (!PUSH(s, s->zone, s->nzone, s->czone, z)) return;
    while (i > 0 && zone_before(s, &z, &s->zone[i - 1])) { s->zone[i] = s->zone[i - 1]; i--; }
    s->zone[i] = z;
}

/* Records a decided finding and applies its action. */
static void decide(scan_stream *s, int reg, size_t a, size_t b, const char *msg,
                   const unsigned char *fp) {
    scan_action act = s->R->act[reg];
    if (act == SCAN_ACT_OFF) return;
    if (s->role == SCAN_ROLE_CONTEXT && act == SCAN_ACT_HALT) act = SCAN_ACT_REDACT;
    const scan_rule_meta *m = &s->R->meta[reg];
    rec r = {0};
    r.f.rule = m->id;
    r.f.kind = m->kind;
    r.f.severity = m->sev;
    r.f.action = act;
    r.f.start = a;
    r.f.end = b;
    snprintf(r.f.message, sizeof r.f.message, "%s%s%s", msg ? msg : m->desc,
             m->kind == SCAN_KIND_SECRET ? " (" : "", m->kind == SCAN_KIND_SECRET
                 ? (act == SCAN_ACT_REDACT ? "redacted)" : "detected)") : "");
    if (fp) {
        r.f.has_fingerprint = 1;
        memcpy(r.f.fingerprint, fp, SCAN_FP_BYTES);
    }
    if (a < s->emitted) {                  /* inside the last marker's zone: at the marker */
        r.f.out_start = s->mark_len && a >= s->mark_zs && s->emitted <= s->zone_end ? s->mark_out : s->out_total;
        r.ks = 1;
    }
    if (b <= s->emitted && !(act == SCAN_ACT_REDACT && b > a)) { r.f.out_end = s->out_total; r.ke = 1; }
    if (act == SCAN_ACT_REDACT) add_zone(s, a, b, reg);
    if (act == SCAN_ACT_HALT && !s->halted) {
        s->halted = 1;
        s->halt_at = a > s->emitted ? a : s->emitted;
        s->halt_f = r.f;
    }
    PUSH(s, s->rec, s->nrec, s->crec, r);
}

static void on_hit_group(scan_stream *s, int base, const scan_hit *h) {
    int reg = base + h->rule;
    if (seen_recently(s, reg, h->start, h->end)) return;
    decide(s, reg, h->start, h->end, h->msg, NULL);
}
static void on_inj_hit(void *ctx, const scan_hit *h) {
    scan_stream *s = ctx;
    on_hit_group(s, s->R->inj0, h);
}
static void on_pi_hit(void *ctx, const scan_hit *h) {
    scan_stream *s = ctx;
    on_hit_group(s, s->R->pi0, h);
}

/* ---- secret matches -------------------------------------------------------- */

static int is_generic(const tent *t) {
    return scan_secret_rules[t->row].check == secret_generic;
}

static void add_tent(scan_stream *s, int row, size_t a, size_t b, int open) {
    int reg = s->R->secret_reg[row];
    for (size_t i = 0; i < s->ntent; i++) {
        tent *t = &s->tent[i];
        if (t->reg == reg && t->start == a && (open ? t->open : (!t->open && t->end == b))) return;
    }
    PUSH(s, s->tent, s->ntent, s->ctent, ((tent){reg, row, a, b, open, 0, 0}));
}

/* Pairwise overlap rule: a generic match loses to any overlapping specific
 * match; otherwise a match loses only to one that contains it (longer, or the
 * same span with a lower rule index). */
static int dominated(scan_stream *s, const tent *t) {
    for (size_t i = 0; i < s->ntent; i++) {
        const tent *u = &s->tent[i];
        if (u == t || u->open || u->end <= t->start || u->start >= t->end) continue;
        int gt = is_generic(t), gu = is_generic(u);
        if (gt && !gu) return 1;
        if (gu && !gt) continue;
        if (u->start <= t->start && u->end >= t->end &&
            (u->end - u->start > t->end - t->start || u->reg < t->reg))
            return 1;
    }
    return 0;
}

static void resolve(scan_stream *s, tent *t) {
    t->resolved = 1;
    t->dead = dominated(s, t);
    if (t->dead) return;
    unsigned char fp[SCAN_FP_BYTES];
    size_t n = t->end - t->start;
    scan_allow_fingerprint(s->R->allow, (const char *)s->buf + (t->start - s->base), n, fp);
    if (scan_allow_contains(s->R->allow, fp)) return;
    decide(s, t->reg, t->start, t->end, NULL, fp);
    sodium_memzero(fp, sizeof fp);
}

/* ---- prefilter callbacks ------------------------------------------------- */

/* A keyword matched: cheap prefilters of the row first (exact case, no
 * letter or digit before), then a candidate for its check. The anchor and
 * the byte before it are always still in the buffer (see trim). */
static void on_kw(void *ctx, int k, size_t kwlen, size_t end) {
    scan_stream *s = ctx;
    int row = s->R->kw_row[k];
    const secret_rule *r = &scan_secret_rules[row];
    size_t a0 = end - kwlen;
    const uint8_t *p = s->buf - s->base;
    if ((r->flags & SF_KWCASE) && memcmp(p + a0, s->R->kw_txt[k], kwlen)) return;
    if ((r->flags & SF_LB) && a0 > 0 && cs_is(p[a0 - 1], CS_ALNUM)) return;
    PUSH(s, s->cand, s->ncand, s->ccand, ((cand){row, a0, end}));
}

static void find_leads(scan_stream *s, size_t from, size_t to) {
    const uint8_t *p = s->buf - s->base;
    size_t i = from;
    while (i < to) {
        if (i + 8 <= to) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) { i += 8; continue; }
        }
        if (p[i] >= 0xC0) PUSH(s, s->up, s->nup, s->cup, ((upend){i, i}));
        i++;
    }
}

/* ---- one pass -------------------------------------------------------------- */

/* The view a check at anchor a0 sees: the text up to a0 + reach, as if it
 * ended there. Bounding every check's lookahead keeps holds under
 * SCAN_HOLD_MAX and keeps decisions independent of chunking. */
static scan_view clip(const scan_view *v, size_t a0, size_t reach) {
    scan_view c = *v;
    c.need = 0;
    if (a0 + reach < sv_end(v)) {
        c.len = a0 + reach - v->base;
        c.eof = 1;
    }
    return c;
}

static void run_checks(scan_stream *s, scan_view *v) {
    size_t k = 0;
    for (size_t i = 0; i < s->ncand; i++) {
        cand c = s->cand[i];
        const secret_rule *r = &scan_secret_rules[c.row];
        size_t a = 0, b = 0;
        scan_view cv = clip(v, c.a0, SCAN_HOLD_MAX - 8 - r->lb);
        int res = r->check(r, &cv, c.a0, c.a1, &a, &b);
        if (cv.need) { s->cand[k++] = c; continue; }
        if (res == SM_YES && b > a) add_tent(s, c.row, a, b, 0);
        else if (res == SM_OPEN) add_tent(s, c.row, a, 0, 1);
    }
    s->ncand = k;
    for (size_t i = 0; i < s->ntent; i++) {
        tent *t = &s->tent[i];
        if (!t->open) continue;
        const secret_rule *r = &scan_secret_rules[t->row];
        size_t e = 0;
        v->need = 0;
        if (r->extend(r, v, t->start, &e) && !v->need) {
            t->end = e > t->start ? e : t->start + 1;
            t->open = 0;
        }
    }
    k = 0;
    for (size_t i = 0; i < s->nup; i++) {
        upend u = s->up[i];
        scan_hit h;
        scan_view cv = clip(v, u.pos, UNICODE_REACH);
        int res = scan_unicode_check(&cv, u.pos, &h, &u.lb);
        if (cv.need) { s->up[k++] = u; continue; }
        if (res == 1) on_hit_group(s, s->R->uni0, &h);
    }
    s->nup = k;
}

/* Lowest offset a secret match not yet decided could start at. */
static size_t secret_frontier(scan_stream *s, scan_view *v) {
    size_t end = sv_end(v), h = end;
    if (!s->eof) {
        h = end - scan_ac_depth(s->R->ac, s->ac_state);
        size_t run = sv_run_back(v, end, CS_TOKEN, RUN_HOLD);
        h = min_sz(h, end - min_sz(run, RUN_HOLD));
    }
    for (size_t i = 0; i < s->ncand; i++) {
        size_t lb = scan_secret_rules[s->cand[i].row].lb;
        size_t a = s->cand[i].a0;
        h = min_sz(h, a > lb ? a - lb : 0);
    }
    for (size_t i = 0; i < s->ntent; i++)
        if (s->tent[i].open) h = min_sz(h, s->tent[i].start);
    return h;
}

static void resolve_tents(scan_stream *s, size_t hres) {
    size_t low = hres;
    for (size_t i = 0; i < s->ntent; i++) {
        tent *t = &s->tent[i];
        if (!t->open && !t->resolved && (t->end <= hres || s->eof)) resolve(s, t);
    }
    for (size_t i = 0; i < s->ntent; i++)
        if (!s->tent[i].resolved) low = min_sz(low, s->tent[i].start);
    size_t k = 0;
    for (size_t i = 0; i < s->ntent; i++)
        if (!(s->tent[i].resolved && s->tent[i].end <= low)) s->tent[k++] = s->tent[i];
    s->ntent = k;
}

/* ---- emission ------------------------------------------------------------ */

static void out_put(scan_stream *s, const void *p, size_t n) {
    if (!grow_text((void **)&s->out, &s->ocap, s->olen + n + 1)) { s->oom = 1; return; }
    memcpy(s->out + s->olen, p, n);
    s->olen += n;
    s->out[s->olen] = 0;
}

/* Places findings whose start/end fall in the copied input [a, b). */
static void map_copy(scan_stream *s, size_t a, size_t b, size_t o) {
    for (size_t i = 0; i < s->nrec; i++) {
        rec *r = &s->rec[i];
        if (!r->ks && r->f.start >= a && r->f.start < b) { r->f.out_start = o + (r->f.start - a); r->ks = 1; }
        if (!r->ke && r->f.end > a && r->f.end <= b) { r->f.out_end = o + (r->f.end - a); r->ke = 1; }
    }
}

static void map_marker(scan_stream *s, size_t a, size_t b, size_t o, size_t m) {
    for (size_t i = 0; i < s->nrec; i++) {
        rec *r = &s->rec[i];
        if (!r->ks && r->f.start >= a && r->f.start < b) { r->f.out_start = o; r->ks = 1; }
        if (!r->ke && r->f.end > a && r->f.end <= b) { r->f.out_end = o + m; r->ke = 1; }
    }
}

static void emit(scan_stream *s, size_t e) {
    const uint8_t *p = s->buf - s->base;
    size_t end = s->base + s->len;
    if (s->halted) e = min_sz(e, s->halt_at);
    if (e < end && (p[e] & 0xC0) == 0x80) {          /* whole UTF-8 only: back off to the lead byte */
        size_t q = e;
        while (q > s->emitted && e - q < 3 && (p[q] & 0xC0) == 0x80) q--;
        int len = p[q] >= 0xF0 ? 4 : p[q] >= 0xE0 ? 3 : p[q] >= 0xC0 ? 2 : 1;
        if ((p[q] & 0xC0) != 0x80 && q + (size_t)len > e) e = q;   /* (invalid UTF-8 is cut anywhere) */
    }
    if (!s->eof && e == end) {
        size_t q = e;
        while (q > s->emitted && q + 4 > e && (p[q - 1] & 0xC0) == 0x80) q--;
        if (q > s->emitted && q + 4 > e && p[q - 1] >= 0xC0) {
            int need = p[q - 1] >= 0xF0 ? 4 : p[q - 1] >= 0xE0 ? 3 : 2;
            if ((size_t)need > e - (q - 1)) e = q - 1;
        }
    }
    size_t at = s->emitted;
    while (at < e) {
        if (at < s->zone_end) { at = min_sz(s->zone_end, e); continue; }
        size_t zi = 0;
        while (zi < s->nzone && s->zone[zi].end <= at) zi++;
        if (zi < s->nzone && s->zone[zi].start <= at) {
            /* a zone starts here (or began before the emission point) */
            size_t ze = s->zone[zi].end;
            for (size_t j = zi + 1; j < s->nzone && s->zone[j].start < ze; j++)
                if (s->zone[j].end > ze) ze = s->zone[j].end;
            if (s->zone[zi].start < at && at == s->zone_end && s->mark_len) {
                /* overlaps the zone masked just before (decided later): one
                 * marker for both, as the whole text gets */
                map_marker(s, at, ze, s->mark_out, s->mark_len);
                s->zone_end = ze;
                continue;
            }
            char mark[96];
            int m = snprintf(mark, sizeof mark, "[REDACTED:%s]", s->R->meta[s->zone[zi].reg].id);
            map_marker(s, s->zone[zi].start < at ? at : s->zone[zi].start, ze, s->out_total, (size_t)m);
            s->mark_zs = s->zone[zi].start < at ? at : s->zone[zi].start;
            s->mark_out = s->out_total;
            s->mark_len = (size_t)m;
            out_put(s, mark, (size_t)m);
            s->out_total += (size_t)m;
            s->zone_end = ze;
            continue;
        }
        size_t stop = zi < s->nzone ? min_sz(s->zone[zi].start, e) : e;
        map_copy(s, at, stop, s->out_total);
        out_put(s, p + at, stop - at);
        s->out_total += stop - at;
        at = stop;
    }
    s->emitted = at;
    size_t k = 0;
    for (size_t i = 0; i < s->nzone; i++)
        if (s->zone[i].end > s->emitted || s->zone[i].end > s->zone_end) s->zone[k++] = s->zone[i];
    s->nzone = k;
}

/* Hands out findings whose place in the output is known (or never will be). */
static void report(scan_stream *s) {
    int final = s->eof || (s->halted && s->emitted >= s->halt_at);
    size_t k = 0;
    for (size_t i = 0; i < s->nrec; i++) {
        rec *r = &s->rec[i];
        if (final) {
            if (!r->ks) r->f.out_start = s->out_total;
            if (!r->ke) r->f.out_end = s->out_total;
            r->ks = r->ke = 1;
        }
        if (r->ks && r->ke) {
            if (r->f.out_end < r->f.out_start) r->f.out_end = r->f.out_start;
            if (s->halted && r->f.rule == s->halt_f.rule && r->f.start == s->halt_f.start)
                s->halt_f = r->f;
            if (!PUSH(s, s->res, s->nres, s->cres, r->f)) break;
        } else {
            s->rec[k++] = *r;
        }
    }
    s->nrec = k;
}

/* Drops text nothing needs any more, wiping it. */
static void trim(scan_stream *s) {
    size_t keep = min_sz(s->emitted, s->an_keep);
    for (size_t i = 0; i < s->ncand; i++) keep = min_sz(keep, s->cand[i].a0);
    for (size_t i = 0; i < s->nup; i++) keep = min_sz(keep, s->up[i].lb);
    for (size_t i = 0; i < s->ntent; i++)
        if (!s->tent[i].resolved) keep = min_sz(keep, s->tent[i].start);
    keep = keep > s->base + HIST ? keep - HIST : s->base;
    if (keep <= s->base + s->len / 2 || keep - s->base < 4096) return;
    size_t drop = keep - s->base;
    memmove(s->buf, s->buf + drop, s->len - drop);
    sodium_memzero(s->buf + s->len - drop, drop);
    s->len -= drop;
    s->base = keep;
}

static int process(scan_stream *s) {
    scan_view v = {s->buf, s->base, s->len, s->eof, 0};
    size_t end = sv_end(&v);
    if (end > s->scanned) {
        scan_ac_run(s->R->ac, &s->ac_state, s->buf + (s->scanned - s->base), end - s->scanned,
                    s->scanned, on_kw, s);
        find_leads(s, s->scanned, end);
        s->scanned = end;
    }
    size_t hold = SIZE_MAX;
    v.need = 0;
    if (s->inj) s->an_keep = scan_inject_feed(s->inj, &v, on_inj_hit, s, &hold);
    if (s->pi) s->an_keep = scan_prompt_feed(s->pi, &v, on_pi_hit, s, &hold);
    run_checks(s, &v);
    size_t hres = secret_frontier(s, &v);
    resolve_tents(s, hres);
    size_t e = hres;
    if (!s->eof) e = min_sz(min_sz(e, hold), scan_unicode_word_tail(&v, end));
    for (size_t i = 0; i < s->nup; i++) e = min_sz(e, s->up[i].lb);
    for (size_t i = 0; i < s->ntent; i++)
        if (!s->tent[i].resolved || s->tent[i].open) e = min_sz(e, s->tent[i].start);
    if (e > s->emitted) emit(s, e);
    report(s);
    trim(s);
    return s->oom ? SCAN_ENOMEM : 0;
}

/* ---- public -------------------------------------------------------------- */

scan_stream *scan_stream_new(const scan_rules *r, scan_role role, const char *filetype) {
    scan_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->R = r;
    s->role = role;
    s->an_keep = SIZE_MAX;
    if (role == SCAN_ROLE_OUTPUT) s->inj = scan_inject_new(filetype);
    else s->pi = scan_prompt_new(filetype);
    if (!s->inj && !s->pi) { free(s); return NULL; }
    return s;
}

static void begin(scan_stream *s, scan_result *out) {
    s->olen = 0;
    s->nres = 0;
    if (s->out) s->out[0] = 0;
    memset(out, 0, sizeof *out);
}

static void finish_result(scan_stream *s, scan_result *out) {
    out->text = s->out ? s->out : "";
    out->len = s->olen;
    static const scan_finding none[1];
    out->findings = s->res ? s->res : none;   /* never NULL, even with no findings */
    out->nfindings = s->nres;
    /* halted once everything before the halting finding is out: the
     * finding's out_start is final then */
    out->halted = s->halted && s->emitted >= s->halt_at;
    out->halt = out->halted ? &s->halt_f : NULL;
}

int scan_feed(scan_stream *s, const char *chunk, size_t len, scan_result *out) {
    if (!s || !out || (!chunk && len)) return SCAN_EINVAL;
    begin(s, out);
    if (s->done) return SCAN_EINVAL;
    if (len) {
        if (!grow_text((void **)&s->buf, &s->cap, s->len + len)) return SCAN_ENOMEM;
        memcpy(s->buf + s->len, chunk, len);
        s->len += len;
    }
    int rc = process(s);
    finish_result(s, out);
    return rc;
}

int scan_finish(scan_stream *s, scan_result *out) {
    if (!s || !out) return SCAN_EINVAL;
    begin(s, out);
    if (s->done) return SCAN_EINVAL;
    s->eof = 1;
    s->done = 1;
    int rc = process(s);
    finish_result(s, out);
    return rc;
}

size_t scan_stream_held(const scan_stream *s, int *in_block) {
    if (in_block) {
        *in_block = s->pi && scan_prompt_in_block(s->pi);
        for (size_t i = 0; i < s->ntent; i++) *in_block |= s->tent[i].open || !s->tent[i].resolved;
    }
    return s->base + s->len - s->emitted;
}

void scan_stream_free(scan_stream *s) {
    if (!s) return;
    if (s->buf) sodium_memzero(s->buf, s->cap);
    free(s->buf);
    free(s->cand);
    free(s->up);
    free(s->tent);
    free(s->zone);
    free(s->rec);
    free(s->res);
    if (s->out) sodium_memzero(s->out, s->ocap);
    free(s->out);
    scan_inject_free(s->inj);
    scan_prompt_free(s->pi);
    free(s);
}
