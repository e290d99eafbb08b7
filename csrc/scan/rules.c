/* rules.c — the rule set: registry of every rule, actions and their config,
 * and the secret-anchor automaton. Built once; read-only afterwards except
 * for the allow-list, which locks itself. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

static const char *const kind_names[] = {"secret", "injection", "unicode", "prompt-injection"};
static const char *const action_names[] = {"off", "warn", "redact", "halt"};
static const char *const sev_names[] = {"low", "medium", "high", "critical"};

const char *scan_kind_name(scan_kind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }
const char *scan_action_name(scan_action a) { return (unsigned)a < 4 ? action_names[a] : "?"; }
const char *scan_severity_name(scan_severity s) { return (unsigned)s < 4 ? sev_names[s] : "?"; }

static scan_action default_action(scan_kind k) {
    switch (k) {
    case SCAN_KIND_SECRET: return SCAN_ACT_REDACT;
    case SCAN_KIND_PROMPT: return SCAN_ACT_REDACT;
    default: return SCAN_ACT_HALT;
    }
}

int scan_rule_index(const scan_rules *r, const char *id) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->meta[i].id, id)) return (int)i;
    return -1;
}

/* Appends a rule unless its id is already registered; returns its index. */
static int add_rule(scan_rules *r, const char *id, scan_kind kind, scan_severity sev,
                    const char *desc) {
    int i = scan_rule_index(r, id);
    if (i >= 0) return i;
    r->meta[r->n] = (scan_rule_meta){id, kind, sev, default_action(kind), desc};
    r->act[r->n] = default_action(kind);
    return (int)r->n++;
}

static int build_registry(scan_rules *r) {
    size_t cap = scan_secret_nrules + scan_unicode_nrules + scan_inject_nrules + scan_prompt_nrules;
    r->meta = calloc(cap, sizeof *r->meta);
    r->act = calloc(cap, sizeof *r->act);
    r->secret_reg = calloc(scan_secret_nrules, sizeof *r->secret_reg);
    if (!r->meta || !r->act || !r->secret_reg) return SCAN_ENOMEM;
    r->secret0 = 0;
    for (size_t i = 0; i < scan_secret_nrules; i++) {
        const secret_rule *s = &scan_secret_rules[i];
        r->secret_reg[i] = add_rule(r, s->id, SCAN_KIND_SECRET, s->sev, s->desc);
    }
    r->uni0 = (int)r->n;
    for (size_t i = 0; i < scan_unicode_nrules; i++)
        add_rule(r, scan_unicode_rules[i].id, SCAN_KIND_UNICODE, scan_unicode_rules[i].sev,
                 scan_unicode_rules[i].desc);
    r->inj0 = (int)r->n;
    for (size_t i = 0; i < scan_inject_nrules; i++)
        add_rule(r, scan_inject_rules[i].id, SCAN_KIND_INJECTION, scan_inject_rules[i].sev,
                 scan_inject_rules[i].desc);
    r->pi0 = (int)r->n;
    for (size_t i = 0; i < scan_prompt_nrules; i++)
        add_rule(r, scan_prompt_rules[i].id, SCAN_KIND_PROMPT, scan_prompt_rules[i].sev,
                 scan_prompt_rules[i].desc);
    return 0;
}

static int build_automaton(scan_rules *r) {
    size_t cap = scan_secret_nrules;
    for (size_t i = 0; i < scan_secret_nrules; i++)
        for (const char *p = scan_secret_rules[i].kw; *p; p++) cap += *p == ' ';
    r->kw_txt = calloc(cap, sizeof *r->kw_txt);
    r->kw_row = calloc(cap, sizeof *r->kw_row);
    int *data = calloc(cap, sizeof *data);
    char **low = calloc(cap, sizeof *low);
    int rc = SCAN_ENOMEM;
    if (!r->kw_txt || !r->kw_row || !data || !low) goto out;
    for (size_t i = 0; i < scan_secret_nrules; i++) {
        const char *p = scan_secret_rules[i].kw;
        while (*p) {
            size_t len = strcspn(p, " ");
            if (!len) { p++; continue; }
            size_t k = r->nkw;
            if (!(r->kw_txt[k] = strndup(p, len)) || !(low[k] = strndup(p, len))) goto out;
            for (size_t j = 0; j < len; j++) low[k][j] = (char)tolower((uint8_t)low[k][j]);
            r->kw_row[k] = (int)i;
            data[k] = (int)k;
            r->nkw++;
            p += len;
        }
    }
    r->ac = scan_ac_build((const char *const *)low, data, r->nkw);
    rc = r->ac ? 0 : SCAN_ENOMEM;
out:
    if (low)
        for (size_t i = 0; i < cap; i++) free(low[i]);
    free(low);
    free(data);
    return rc;
}

static int parse_action(const char *s, scan_action *a) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, action_names[i])) { *a = (scan_action)i; return 0; }
    return -1;
}

/* Applies one "PATTERN = ACTION" to every matching rule; returns matches. */
static int apply(scan_rules *r, const char *pat, scan_action a) {
    size_t pl = strlen(pat);
    int glob = pl && pat[pl - 1] == '*', hits = 0;
    for (size_t i = 0; i < r->n; i++) {
        const scan_rule_meta *m = &r->meta[i];
        int match = glob ? !strncmp(m->id, pat, pl - 1) || !strcmp(pat, "*")
                         : !strcmp(m->id, pat) || !strcmp(scan_kind_name(m->kind), pat);
        /* an injection verdict may come after part of its statement is out
         * (long statements, functions defined later): it cannot be redacted */
        if (match) { r->act[i] = a == SCAN_ACT_REDACT && m->kind == SCAN_KIND_INJECTION ? SCAN_ACT_HALT : a; hits++; }
    }
    return hits;
}

int scan_rules_configure(scan_rules *r, const char *config, char *err, size_t errlen) {
    if (!config) return 0;
    int lineno = 0;
    for (const char *p = config; *p;) {
        size_t len = strcspn(p, "\n");
        char line[256];
        lineno++;
        if (len >= sizeof line) {
            snprintf(err, errlen, "scan config line %d: too long", lineno);
            return SCAN_EFORMAT;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (p[len] == '\n');
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char pat[128], act[32], extra[2];
        int got = sscanf(line, " %127[^= \t] = %31s %1s", pat, act, extra);
        if (got <= 0) continue;              /* blank or comment */
        scan_action a;
        if (got != 2 || parse_action(act, &a) < 0) {
            snprintf(err, errlen, "scan config line %d: expected 'RULE = redact|halt|warn|off'", lineno);
            return SCAN_EFORMAT;
        }
        if (!apply(r, pat, a)) {
            snprintf(err, errlen, "scan config line %d: no rule or kind matches '%.60s'", lineno, pat);
            return SCAN_EFORMAT;
        }
    }
    return 0;
}

scan_rules *scan_rules_new(const char *config, char *err, size_t errlen) {
    scan_rules *r = calloc(1, sizeof *r);
    if (!r || build_registry(r) < 0 || build_automaton(r) < 0 || !(r->allow = scan_allow_new())) {
        snprintf(err, errlen, "scanner: out of memory");
        scan_rules_free(r);
        return NULL;
    }
    if (scan_rules_configure(r, config, err, errlen) < 0) {
        scan_rules_free(r);
        return NULL;
    }
    return r;
}

void scan_rules_free(scan_rules *r) {
    if (!r) return;
    free(r->meta);
    free(r->act);
    free(r->secret_reg);
    if (r->kw_txt)
        for (size_t i = 0; i < r->nkw; i++) free(r->kw_txt[i]);
    free(r->kw_txt);
    free(r->kw_row);
    scan_ac_free(r->ac);
    scan_allow_free(r->allow);
    free(r);
}

size_t scan_rule_count(const scan_rules *r) { return r->n; }

const char *scan_rule_info(const scan_rules *r, size_t i, scan_kind *kind, scan_action *action,
                           const char **description) {
    if (i >= r->n) return NULL;
    if (kind) *kind = r->meta[i].kind;
    if (action) *action = r->act[i];
    if (description) *description = r->meta[i].desc;
    return r->meta[i].id;
}

scan_allow *scan_rules_allowlist(const scan_rules *r) { return r->allow; }
