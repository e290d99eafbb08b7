/* allow.c — findings on the wire and the editor's way to the scanner's
 * allow-list (doc/protocol.md, `allow`). Every secret finding the client is
 * sent carries an opaque `allow_id`; the server remembers the fingerprints
 * of the last SRV_ALLOW_RING of them (keyed BLAKE2b, never the secret) and
 * `allow {allow_id}` adds that fingerprint to the rules' allow-list, so the
 * secret is no longer a finding in later completions, scans and prompts. The
 * client never holds the secret or its fingerprint. With cfg.allowlist set the
 * list is loaded at start and saved after every addition. Loop thread only. */
#include <string.h>

#include "serve/internal.h"

/* Remembers a secret finding's fingerprint; returns its allow_id. */
static int64_t remember(srv_server *s, const scan_finding *f) {
    srv_allow_entry *e = &s->allow_ring[s->allow_next % SRV_ALLOW_RING];
    e->id = ++s->allow_next;
    e->rule = f->rule;
    memcpy(e->fp, f->fingerprint, SCAN_FP_BYTES);
    return e->id;
}

rpc_val *srv_finding_val(srv_server *s, const scan_finding *f, int emitted, rpc_arena *a) {
    rpc_val *m = rpc_map(a, 8);
    rpc_map_put(a, m, "rule", rpc_cstr(a, f->rule));
    rpc_map_put(a, m, "kind", rpc_cstr(a, f->kind == SCAN_KIND_PROMPT ? "prompt-injection" : scan_kind_name(f->kind)));
    rpc_map_put(a, m, "severity", rpc_cstr(a, scan_severity_name(f->severity)));
    rpc_map_put(a, m, "action", rpc_cstr(a, scan_action_name(f->action)));
    rpc_map_put(a, m, "start", rpc_int(a, (int64_t)(emitted ? f->out_start : f->start)));
    rpc_map_put(a, m, "end", rpc_int(a, (int64_t)(emitted ? f->out_end : f->end)));
    rpc_map_put(a, m, "message", rpc_cstr(a, f->message));
    if (f->has_fingerprint) rpc_map_put(a, m, "allow_id", rpc_int(a, remember(s, f)));
    return m;
}

int srv_allow_load(srv_server *s, char *err, size_t errlen) {
    if (!s->cfg.allowlist[0]) return 0;
    return scan_allow_load(scan_rules_allowlist(s->rules), s->cfg.allowlist, err, errlen) ? -1 : 0;
}

int srv_m_allow(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    int64_t id;
    if (rpc_field_int(p, "allow_id", 1, 1, INT64_MAX, &id, err, errlen)) return -1;
    if (!s->rules) return fl_seterr(err, errlen, "the scanner is not available: %s", s->rules_err);
    const srv_allow_entry *e = &s->allow_ring[(id - 1) % SRV_ALLOW_RING];
    if (e->id != id)
        return fl_seterr(err, errlen, "no finding with allow_id %lld (the server keeps the last %d secret findings)",
                         (long long)id, SRV_ALLOW_RING);
    scan_allow *list = scan_rules_allowlist(s->rules);
    if (scan_allow_add(list, e->fp)) return fl_seterr(err, errlen, "out of memory");
    char why[FL_ERRLEN];
    if (s->cfg.allowlist[0] && scan_allow_save(list, s->cfg.allowlist, why, sizeof why))
        return fl_seterr(err, errlen, "allowed for this session, but not saved: %s", why);
    rpc_val *r = rpc_map(a, 3);
    rpc_map_put(a, r, "rule", rpc_cstr(a, e->rule));
    rpc_map_put(a, r, "count", rpc_int(a, (int64_t)scan_allow_count(list)));
    rpc_map_put(a, r, "saved", rpc_bool(a, s->cfg.allowlist[0] != 0));
    *res = r;
    return 0;
}
