/* secrets_tab.c — the secret rules: one row per credential format.
 *
 * A row names its anchors (keywords for the Aho–Corasick prefilter) and the
 * check that confirms a match around an anchor. Most formats are a literal
 * prefix and a body of one character class and length (P rows); formats
 * recognised by a keyword near the value use K rows; the rest have a small
 * hand-written check below. Several rows may share one rule id.
 */
#include <string.h>

#include "scan/scan_int.h"

#define CRIT SCAN_SEV_CRITICAL
#define HIGH SCAN_SEV_HIGH
#define MED  SCAN_SEV_MEDIUM

/* Prefix token: kw is the case-sensitive prefix, then cs{min,max}. */
#define P(id, desc, kw, cs, mn, mx, fl, sev) \
    {id, desc, kw, secret_prefix_token, NULL, NULL, cs, mn, mx, 0, (fl) | SF_KWCASE | SF_LB, sev}
/* Long prefix token: confirmed after SECRET_OPEN_AT bytes, extended to the run's end. */
#define PO(id, desc, kw, cs, mn, fl, sev) \
    {id, desc, kw, secret_prefix_token, secret_extend_run, NULL, cs, mn, 65535, 0, \
     (fl) | SF_OPEN | SF_KWCASE | SF_LB, sev}
/* Keyword near an assignment of a value cs{min,max}. */
#define K(id, desc, kw, cs, mn, mx, fl, sev) \
    {id, desc, kw, secret_kv, NULL, NULL, cs, mn, mx, 0, fl, sev}
/* Custom check; lb = how far before the anchor the span may start; fl =
 * prefilter flags (SF_KWCASE: kw is written in its exact case; SF_LB). */
#define C(id, desc, kw, fn, lb, fl, sev) {id, desc, kw, fn, NULL, NULL, 0, 0, 0, lb, fl, sev}
#define CO(id, desc, kw, fn, ext, lb, fl, sev) {id, desc, kw, fn, ext, NULL, 0, 0, 0, lb, (fl) | SF_OPEN, sev}
#define EX (SF_KWCASE | SF_LB)

/* Runs the value tests on [body, e) with extra flags. */
static int accept(scan_view *v, size_t s, size_t body, size_t e, int flags,
                  size_t *start, size_t *end) {
    secret_rule tmp = {0};
    tmp.flags = (uint16_t)flags;
    return secret_accept(&tmp, v, s, body, e, start, end);
}

/* AWS key id: AKIA/ASIA/ABIA/ACCA/A3Tx + 16 upper-case letters or digits. */
static int c_aws_id(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                    size_t *s, size_t *e) {
    size_t p = a0;
    if (!(tk_lit(v, &p, "AKIA") || tk_lit(v, &p, "ASIA") || tk_lit(v, &p, "ABIA") ||
          tk_lit(v, &p, "ACCA") || (tk_lit(v, &p, "A3T") && tk_run(v, &p, CS_UALNUM, 1, 1))))
        return SM_NO;
    size_t body = p;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_UALNUM, 16, 16) || !tk_end(v, p))
        return SM_NO;
    return accept(v, a0, body, p, 0, s, e);
}

/* Azure AD client secret: xxx + digit + "Q~" + 31-34 of [A-Za-z0-9_~.-]. */
static int c_azure_ad(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                      size_t *s, size_t *e) {
    if (!cs_is(sv_at(v, a0 - 1), CS_DIGIT) || a0 < 4) return SM_NO;
    size_t st = a0 - 4;
    for (size_t i = st; i < a0 - 1; i++) {
        int c = sv_at(v, i);
        if (!cs_is(c, CS_ALNUM) && c != '_' && c != '~' && c != '.') return SM_NO;
    }
    int b = sv_at(v, st - 1);
    if (st && (cs_is(b, CS_ALNUM) || b == '_' || b == '~' || b == '.' || b == '-')) return SM_NO;
    size_t p = a1, k = 0;
    int c;
    while (k < 35 && ((c = sv_at(v, p)) == '_' || c == '~' || c == '.' || c == '-' || cs_is(c, CS_ALNUM)))
        p++, k++;
    if (k < 31 || k > 34) return SM_NO;
    return accept(v, st, a1, p, SF_MIXED, s, e);
}

/* Azure container registry password: 42 base64 + "+ACR" + 6 alnum. */
static int c_acr(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    if (sv_run_back(v, a0, CS_B64, 42) != 42) return SM_NO;
    size_t st = a0 - 42, p = a1;
    if (!tk_run(v, &p, CS_ALNUM, 6, 6) || !tk_end(v, p)) return SM_NO;
    return accept(v, st, st, p, 0, s, e);
}

/* Terraform Cloud / HCP: 14 alnum + ".atlasv1." + 60-70 of [A-Za-z0-9_=-]. */
static int c_terraform(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                       size_t *s, size_t *e) {
    if (sv_run_back(v, a0, CS_ALNUM, 14) != 14) return SM_NO;
    size_t st = a0 - 14, p = a1, k = 0;
    int c;
    while (k < 71 && ((c = sv_at(v, p)) == '_' || c == '=' || c == '-' || cs_is(c, CS_ALNUM)))
        p++, k++;
    if (k < 60 || k > 70) return SM_NO;
    return accept(v, st, a1, p, 0, s, e);
}

/* Mailchimp: 32 lower-case hex + "-us" + 1-2 digits. */
static int c_mailchimp(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                       size_t *s, size_t *e) {
    if (sv_run_back(v, a0, CS_HEXL, 32) != 32 || cs_is(sv_at(v, a0 - 33), CS_ALNUM)) return SM_NO;
    size_t p = a1;
    if (!tk_run(v, &p, CS_DIGIT, 1, 2) || !tk_end(v, p)) return SM_NO;
    return accept(v, a0 - 32, a0 - 32, a0, 0, s, e) ? (*e = p, SM_YES) : SM_NO;
}

/* MaxMind license key: 6 alnum + "_" + 29 alnum + "_mmk". */
static int c_maxmind(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                     size_t *s, size_t *e) {
    if (sv_run_back(v, a0, CS_ALNUM, 29) != 29 || sv_at(v, a0 - 30) != '_' ||
        sv_run_back(v, a0 - 30, CS_ALNUM, 6) != 6 || !tk_end(v, a1) ||
        cs_is(sv_at(v, a0 - 37), CS_W))
        return SM_NO;
    return accept(v, a0 - 36, a0 - 36, a0, 0, s, e) ? (*e = a1, SM_YES) : SM_NO;
}

/* Telegram bot: 5-16 digits + ":A" + 34 of [A-Za-z0-9_-]. */
static int c_telegram(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                      size_t *s, size_t *e) {
    if (sv_at(v, a0 + 1) != 'A') return SM_NO;
    size_t d = sv_run_back(v, a0, CS_DIGIT, 16);
    if (d < 5 || d > 16 || cs_is(sv_at(v, a0 - d - 1), CS_W)) return SM_NO;
    size_t p = a1;
    if (!tk_run(v, &p, CS_WD, 34, 34)) return SM_NO;
    return accept(v, a0 - d, a1, p, SF_MIXED, s, e) ? (*s = a0 - d, SM_YES) : SM_NO;
}

/* Facebook app access token: 15-16 digit app id + " " + 27-40 [A-Za-z0-9_-]. */
static int c_fb_app_token(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                          size_t *s, size_t *e) {
    size_t d = sv_run_back(v, a0, CS_DIGIT, 16);
    if (d < 15 || d > 16 || cs_is(sv_at(v, a0 - d - 1), CS_W)) return SM_NO;
    size_t p = a1;
    if (!tk_run(v, &p, CS_WD, 27, 40)) return SM_NO;
    return accept(v, a0 - d, a1, p, SF_MIXED, s, e) ? (*s = a0 - d, SM_YES) : SM_NO;
}

/* Slack tokens xox[abeoprs]-: a digit group then dash-separated alnum groups. */
static int c_slack(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                   size_t *s, size_t *e) {
    size_t p = a0;
    int config = tk_lit(v, &p, "xoxe.xox");
    if (!config && !tk_lit(v, &p, "xox")) return SM_NO;
    int t = sv_at(v, p);
    if (t <= 0 || !strchr(config ? "bp" : "abeoprs", t)) return SM_NO;
    p++;
    if (!tk_lit(v, &p, "-") || !secret_left_ok(v, a0)) return SM_NO;
    size_t body = p;
    if (!tk_run(v, &p, CS_DIGIT, 1, 16)) return SM_NO;
    size_t groups = 1;
    while (sv_at(v, p) == '-' && cs_is(sv_at(v, p + 1), CS_ALNUM)) {
        p++;
        if (!tk_run(v, &p, CS_ALNUM, 1, 250)) return SM_NO;
        groups++;
    }
    size_t n = p - body;
    if (groups < 2 || n < 20 || (config && n < 150) || !tk_end(v, p) || sv_at(v, p) == '_')
        return SM_NO;
    return accept(v, a0, body, p, SF_MIXED, s, e);
}

/* Slack app-level token: xapp-1-<ID>-<digits>-<alnum>. */
static int c_slack_app(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                       size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_DIGIT, 1, 2) || !tk_lit(v, &p, "-") ||
        !tk_run(v, &p, CS_UALNUM, 8, 16) || !tk_lit(v, &p, "-") ||
        !tk_run(v, &p, CS_DIGIT, 8, 16) || !tk_lit(v, &p, "-") ||
        !tk_run(v, &p, CS_LALNUM, 32, 128) || !tk_end(v, p))
        return SM_NO;
    return accept(v, a0, a1, p, 0, s, e);
}

/* OpenAI: sk-[proj-|svcacct-|admin-|<name>-]... containing the T3BlbkFJ marker,
 * or a long project/service key without it. */
static int c_openai(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                    size_t *s, size_t *e) {
    if (!sv_lit(v, a0, "sk-", 0) || !secret_left_ok(v, a0)) return SM_NO;
    if (sv_lit(v, a1, "ant-", 0) || sv_lit(v, a1, "or-", 0)) return SM_NO;
    size_t n = sv_run(v, a1, CS_WD, 250);
    if (n < 20 || n > 250 || !tk_end(v, a1 + n)) return SM_NO;
    char tok[256];
    sv_copy(v, a1, n, tok);
    int marker = 0, ok;
    for (size_t i = 0; i + 8 <= n; i++)
        if (!memcmp(tok + i, "T3BlbkFJ", 8)) marker = 1;
    int project = (n >= 5 && !memcmp(tok, "proj-", 5)) || (n >= 8 && !memcmp(tok, "svcacct-", 8)) ||
                  (n >= 6 && !memcmp(tok, "admin-", 6));
    ok = (marker || (project && n >= 100)) && secret_value_ok(tok, n, SF_MIXED);
    memset(tok, 0, n);
    if (!ok) return SM_NO;
    *s = a0;
    *e = a1 + n;
    return SM_YES;
}

/* Sourcegraph: sgp_ + (16 hex | "local") + "_" + 40 hex, or sgp_ + 40 hex. */
static int c_sourcegraph(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                         size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0)) return SM_NO;
    size_t q = p;
    if ((tk_run(v, &q, CS_HEX, 16, 16) || tk_lit(v, &q, "local")) && tk_lit(v, &q, "_"))
        p = q;
    size_t body = p;
    if (!tk_run(v, &p, CS_HEX, 40, 40) || !tk_end(v, p) || sv_at(v, p) == '_') return SM_NO;
    return accept(v, a0, body, p, SF_MIXED, s, e);
}

/* 1Password secret key: A3-XXXXXX-(XXXXXXXXXXX|XXXXXX-XXXXX)-XXXXX-XXXXX-XXXXX. */
static int c_1password_key(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                           size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_UALNUM, 6, 6) || !tk_lit(v, &p, "-"))
        return SM_NO;
    size_t q = p;
    if (!(tk_run(v, &q, CS_UALNUM, 11, 11) ||
          (tk_run(v, &p, CS_UALNUM, 6, 6) && tk_lit(v, &p, "-") && tk_run(v, &p, CS_UALNUM, 5, 5))))
        return SM_NO;
    if (q > p) p = q;
    for (int i = 0; i < 3; i++)
        if (!tk_lit(v, &p, "-") || !tk_run(v, &p, CS_UALNUM, 5, 5)) return SM_NO;
    if (!tk_end(v, p) || sv_at(v, p) == '-') return SM_NO;
    return accept(v, a0, a1, p, SF_MIXED, s, e);
}

/* Base64 JSON after a prefix (ops_eyJ, sntrys_eyJ): the decoded start must be
 * printable JSON text. */
static int json_b64_ok(scan_view *v, size_t p) {
    char b[48];
    unsigned char d[40];
    if (sv_run(v, p, CS_B64X, 47) < 40) return 0;
    sv_copy(v, p, 40, b);
    long n = scan_b64dec(b, 40, d, sizeof d);
    if (n < 20 || d[0] != '{' || d[1] != '"') return 0;
    for (long i = 0; i < n; i++)
        if (d[i] < 0x20 || d[i] > 0x7e) return 0;
    return 1;
}

static int c_b64json_token(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                           size_t *s, size_t *e) {
    if (!sv_lit(v, a0, r->lit, 0) || !secret_left_ok(v, a0)) return SM_NO;
    size_t p = a0 + strlen(r->lit) - 3;          /* the lit ends with "eyJ" */
    if (!json_b64_ok(v, p)) return SM_NO;
    size_t n = sv_run(v, p, r->cs, SECRET_OPEN_AT);
    if (v->need) return SM_NO;
    *s = a0;
    if (n > SECRET_OPEN_AT) return SM_OPEN;
    if (n < r->min) return SM_NO;
    *e = p + n;
    return SM_YES;
}

static int x_b64json_token(const secret_rule *r, scan_view *v, size_t start, size_t *end) {
    size_t p = start + strlen(r->lit) - 3;
    size_t n = sv_run(v, p, r->cs, 65536);
    if (v->need) return 0;
    *end = p + n;
    return 1;
}

/* Vault legacy service token: a vault/token keyword, a few separator bytes,
 * then "s." + 24 alphanumerics mixing letters and digits. */
static int c_vault_ctx(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                       size_t *s, size_t *e) {
    size_t p = a1, k = 0;
    int c;
    while (k < 16 && ((c = sv_at(v, p)) == ' ' || c == '\t' || c == ':' || c == '=' ||
                      c == '"' || c == '\'' || c == '_'))
        p++, k++;
    size_t st = p;
    if (!tk_lit(v, &p, "s.") || !tk_run(v, &p, CS_ALNUM, 24, 24) || !tk_end(v, p) ||
        sv_at(v, p) == '.')
        return SM_NO;
    return accept(v, st, st + 2, p, SF_MIXED, s, e);
}

/* Slack webhook: http(s)://hooks.slack.com/(services|workflows|triggers)/... */
static int c_slack_hook(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                        size_t *s, size_t *e) {
    size_t st;
    if (a0 >= 8 && sv_lit(v, a0 - 8, "https://", 1)) st = a0 - 8;
    else if (a0 >= 7 && sv_lit(v, a0 - 7, "http://", 1)) st = a0 - 7;
    else return SM_NO;
    size_t p = a1;
    if (!(tk_lit(v, &p, "services/") || tk_lit(v, &p, "workflows/") || tk_lit(v, &p, "triggers/")))
        return SM_NO;
    size_t body = p, k = 0;
    int c;
    while (k < 200 && ((c = sv_at(v, p)) == '/' || c == '_' || c == '+' || c == '-' || cs_is(c, CS_ALNUM)))
        p++, k++;
    if (k < 40) return SM_NO;
    return accept(v, st, body, p, SF_MIXED, s, e);
}

/* Discord webhook: .../api/webhooks/<17-20 digits>/<60-68 [A-Za-z0-9_-]> */
static int c_discord_hook(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                          size_t *s, size_t *e) {
    size_t st = a0;
    if (a0 >= 8 && sv_lit(v, a0 - 8, "https://", 1)) st = a0 - 8;
    else if (a0 >= 7 && sv_lit(v, a0 - 7, "http://", 1)) st = a0 - 7;
    size_t p = a1;
    if (!tk_run(v, &p, CS_DIGIT, 17, 20) || !tk_lit(v, &p, "/")) return SM_NO;
    size_t body = p;
    if (!tk_run(v, &p, CS_WD, 60, 68)) return SM_NO;
    return accept(v, st, body, p, SF_MIXED, s, e);
}

/* Discord bot token near a "discord" keyword: [MNO] + 23-25, "." 6, "." 27+. */
static int discord_shape(scan_view *v, size_t p, size_t *end) {
    int c = sv_at(v, p);
    if (c != 'M' && c != 'N' && c != 'O') return 0;
    size_t q = p;
    if (!tk_run(v, &q, CS_WD, 24, 26) || !tk_lit(v, &q, ".") || !tk_run(v, &q, CS_WD, 6, 6) ||
        !tk_lit(v, &q, ".") || !tk_run(v, &q, CS_WD, 27, 80) || !tk_end(v, q))
        return 0;
    *end = q;
    return 1;
}

/* Discord bot token on its own: the shape, and the first part decodes to
 * text starting with a digit (it is the base64 of the numeric user id). */
static int c_discord_bare(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                          size_t *s, size_t *e) {
    size_t end, n = sv_run(v, a0, CS_WD, 26);
    if (cs_is(sv_at(v, a0 - 1), CS_WD) || n < 24 || n > 26 || !discord_shape(v, a0, &end))
        return SM_NO;
    char b[28];
    unsigned char d[24];
    sv_copy(v, a0, n, b);
    if (scan_b64dec(b, n, d, sizeof d) < 17 || d[0] < '1' || d[0] > '9') return SM_NO;
    return accept(v, a0, a0, end, SF_MIXED, s, e);
}

static int c_discord_bot(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                         size_t *s, size_t *e) {
    for (size_t p = a1, k = 0; k < 160; k++, p++) {
        int c = sv_at(v, p);
        if (c < 0) return SM_NO;
        size_t end;
        if (!cs_is(sv_at(v, p - 1), CS_WD) && discord_shape(v, p, &end))
            return accept(v, p, p, end, SF_MIXED, s, e);
    }
    return SM_NO;
}

/* Values made of one class near a context keyword are handled by secret_kv;
 * the AWS secret needs exactly 40 base64 bytes there. */

/* Cloudflare origin CA key: v1.0-<24 hex>-<146 hex>. */
static int c_cf_origin(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                       size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_HEXL, 24, 24) || !tk_lit(v, &p, "-") ||
        !tk_run(v, &p, CS_HEXL, 146, 146) || !tk_end(v, p))
        return SM_NO;
    return accept(v, a0, a1, p, 0, s, e);
}

/* Two runs separated by one byte: prefix cs1{n1} sep cs2{n2min,n2max}. */
static int two_runs(scan_view *v, size_t a0, size_t a1, int cs1, size_t n1a, size_t n1b,
                    const char *sep, int cs2, size_t n2a, size_t n2b, int fl,
                    size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, cs1, n1a, n1b) || !tk_lit(v, &p, sep) ||
        !tk_run(v, &p, cs2, n2a, n2b) || !tk_end(v, p))
        return SM_NO;
    return accept(v, a0, a1, p, fl, s, e);
}

static int c_sendgrid(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_WD, 22, 22, ".", CS_WD, 43, 43, SF_MIXED, s, e);
}
static int c_langsmith(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_HEXL, 32, 32, "_", CS_HEXL, 10, 10, 0, s, e);
}
static int c_brevo(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_HEXL, 64, 64, "-", CS_ALNUM, 16, 16, 0, s, e);
}
static int c_glsa(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_ALNUM, 32, 32, "_", CS_HEX, 8, 8, SF_MIXED, s, e);
}
static int c_dynatrace(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_UALNUM, 24, 24, ".", CS_UALNUM, 64, 64, SF_MIXED, s, e);
}
static int c_pinecone(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    return two_runs(v, a0, a1, CS_ALNUM, 4, 8, "_", CS_ALNUM, 50, 80, SF_MIXED, s, e);
}
static int c_sentry_user(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_HEXL, 64, 64) || !tk_end(v, p)) return SM_NO;
    return accept(v, a0, a1, p, 0, s, e);
}

/* Flutterwave: FLWSECK[_TEST]-<32 hex>-X */
static int c_flutterwave(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                         size_t *s, size_t *e) {
    size_t p = a1;
    tk_lit(v, &p, "_TEST");
    if (!secret_left_ok(v, a0) || !tk_lit(v, &p, "-")) return SM_NO;
    size_t body = p;
    if (!tk_run(v, &p, CS_HEX, 32, 32) || !tk_lit(v, &p, "-X") || !tk_end(v, p)) return SM_NO;
    return accept(v, a0, body, p, 0, s, e);
}

/* Mailgun private key "key-" + 32 hex (not "pubkey-"). */
static int c_mailgun(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                     size_t *s, size_t *e) {
    size_t p = a1;
    if (cs_is(sv_at(v, a0 - 1), CS_W) || !tk_run(v, &p, CS_HEXL, 32, 32) || !tk_end(v, p))
        return SM_NO;
    return accept(v, a0, a1, p, 0, s, e);
}

/* Notion integration token: ntn_ + 11 digits + 35 alnum. */
static int c_notion(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                    size_t *s, size_t *e) {
    size_t p = a1;
    if (!secret_left_ok(v, a0) || !tk_run(v, &p, CS_ALNUM, 46, 46) || !tk_end(v, p)) return SM_NO;
    for (size_t i = a1; i < a1 + 11; i++)
        if (!cs_is(sv_at(v, i), CS_DIGIT)) return SM_NO;
    return accept(v, a0, a1, p, SF_MIXED, s, e);
}

/* Shared shape for AGE secret keys: bech32 body. */
static int c_age(const secret_rule *r, scan_view *v, size_t a0, size_t a1, size_t *s, size_t *e) {
    size_t p = a1, k = 0;
    int c;
    while (k < 59 && (c = sv_at(v, p)) >= 0 && strchr("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", c) && c)
        p++, k++;
    if (k != 58 || !tk_end(v, p)) return SM_NO;
    return accept(v, a0, a1, p, 0, s, e);
}

const secret_rule scan_secret_rules[] = {
    /* cloud */
    C("aws-access-key-id", "AWS access key ID", "AKIA ASIA ABIA ACCA A3T", c_aws_id, 0, EX, CRIT),
    K("aws-secret-access-key", "AWS secret access key",
      "aws_secret aws-secret awssecret secret_access_key secretaccesskey aws_secret_key",
      CS_B64, 40, 40, SF_MIXED, CRIT),
    P("google-api-key", "Google API key", "AIza", CS_WD, 35, 35, SF_MIXED, HIGH),
    P("google-oauth-access-token", "Google OAuth access token", "ya29.", CS_WD, 30, 250, SF_MIXED, HIGH),
    P("google-oauth-client-secret", "Google OAuth client secret", "GOCSPX-", CS_WD, 28, 28, SF_MIXED, HIGH),
    C("azure-ad-client-secret", "Azure AD client secret", "Q~", c_azure_ad, 4, SF_KWCASE, HIGH),
    K("azure-storage-account-key", "Azure storage account key",
      "accountkey storagekey storage_key storage-key storageaccountkey azure_storage",
      CS_B64E, 86, 88, SF_MIXED, CRIT),
    C("azure-container-registry-password", "Azure container registry password", "+ACR", c_acr, 42, SF_KWCASE, HIGH),
    P("digitalocean-token", "DigitalOcean token", "dop_v1_", CS_HEXL, 64, 64, 0, HIGH),
    P("digitalocean-token", "DigitalOcean token", "doo_v1_", CS_HEXL, 64, 64, 0, HIGH),
    P("digitalocean-token", "DigitalOcean token", "dor_v1_", CS_HEXL, 64, 64, 0, HIGH),
    P("heroku-api-key-v2", "Heroku API key", "HRKU-AA", CS_WD, 58, 58, SF_MIXED, HIGH),
    K("heroku-api-key", "Heroku API key", "heroku", CS_HEXD, 36, 36, SF_MIXED, HIGH),
    PO("flyio-token", "Fly.io access token", "fm1a_", CS_B64E, 40, SF_MIXED, HIGH),
    PO("flyio-token", "Fly.io access token", "fm1r_", CS_B64E, 40, SF_MIXED, HIGH),
    PO("flyio-token", "Fly.io access token", "fm2_", CS_B64E, 40, SF_MIXED, HIGH),
    P("alibaba-access-key-id", "Alibaba Cloud access key ID", "LTAI", CS_ALNUM, 20, 20, SF_MIXED, HIGH),
    P("cloudflare-api-token", "Cloudflare API token", "cfat_", CS_ALNUM, 40, 48, SF_MIXED, HIGH),
    P("cloudflare-api-token", "Cloudflare API token", "cfut_", CS_ALNUM, 40, 48, SF_MIXED, HIGH),
    C("cloudflare-origin-ca-key", "Cloudflare origin CA key", "v1.0-", c_cf_origin, 0, EX, HIGH),
    P("databricks-token", "Databricks token", "dapi", CS_HEXL, 32, 32, SF_MIXED, HIGH),
    P("doppler-token", "Doppler token", "dp.pt.", CS_LALNUM, 40, 44, SF_MIXED, HIGH),
    P("doppler-token", "Doppler token", "dp.st.", CS_WDD, 40, 80, SF_MIXED, HIGH),
    P("doppler-token", "Doppler token", "dp.ct.", CS_LALNUM, 40, 44, SF_MIXED, HIGH),
    P("doppler-token", "Doppler token", "dp.sa.", CS_LALNUM, 40, 44, SF_MIXED, HIGH),
    P("vault-token", "HashiCorp Vault token", "hvs.", CS_WD, 90, 120, SF_MIXED, HIGH),
    P("vault-token", "HashiCorp Vault token", "hvb.", CS_WD, 138, 300, SF_MIXED, HIGH),
    C("vault-token", "HashiCorp Vault token", "vault token", c_vault_ctx, 0, 0, HIGH),
    C("terraform-cloud-token", "Terraform Cloud / HCP token", ".atlasv1.", c_terraform, 14, SF_KWCASE, HIGH),
    P("pulumi-access-token", "Pulumi access token", "pul-", CS_HEXL, 40, 40, 0, HIGH),
    P("scalingo-api-token", "Scalingo API token", "tk-us-", CS_WD, 48, 48, SF_MIXED, HIGH),
    P("planetscale-token", "PlanetScale token", "pscale_pw_", CS_B64X, 32, 64, SF_MIXED, HIGH),
    P("planetscale-token", "PlanetScale token", "pscale_tkn_", CS_B64X, 32, 64, SF_MIXED, HIGH),
    P("planetscale-token", "PlanetScale token", "pscale_oauth_", CS_B64X, 32, 64, SF_MIXED, HIGH),
    P("openshift-token", "OpenShift user token", "sha256~", CS_WD, 43, 43, SF_MIXED, HIGH),
    P("tailscale-key", "Tailscale key", "tskey-", CS_WD, 20, 200, SF_MIXED, HIGH),
    C("dynatrace-token", "Dynatrace API token", "dt0c01.", c_dynatrace, 0, EX, HIGH),
    P("netlify-token", "Netlify access token", "nfp_", CS_ALNUM, 36, 40, SF_MIXED, HIGH),
    P("vercel-token", "Vercel access token", "vcp_", CS_ALNUM, 24, 64, SF_MIXED, HIGH),

    /* code hosting, CI and package registries */
    P("github-pat", "GitHub personal access token", "ghp_", CS_W, 36, 255, SF_MIXED, CRIT),
    P("github-oauth-token", "GitHub OAuth token", "gho_", CS_W, 36, 255, SF_MIXED, CRIT),
    P("github-app-token", "GitHub app token", "ghu_", CS_W, 36, 255, SF_MIXED, CRIT),
    P("github-app-token", "GitHub app token", "ghs_", CS_W, 36, 255, SF_MIXED, CRIT),
    P("github-refresh-token", "GitHub refresh token", "ghr_", CS_W, 36, 255, SF_MIXED, CRIT),
    P("github-fine-grained-pat", "GitHub fine-grained token", "github_pat_", CS_W, 82, 82, SF_MIXED, CRIT),
    P("gitlab-pat", "GitLab personal access token", "glpat-", CS_WDD, 20, 64, SF_MIXED, CRIT),
    P("gitlab-token", "GitLab token", "gldt-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glrt-", CS_WDD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glrtr-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glcbt-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glptt-", CS_HEXL, 40, 40, 0, HIGH),
    P("gitlab-token", "GitLab token", "glagent-", CS_WD, 50, 128, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "gloas-", CS_WD, 64, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glsoat-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glffct-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glimt-", CS_WD, 25, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "glft-", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("gitlab-token", "GitLab token", "GR1348941", CS_WD, 20, 64, SF_MIXED, HIGH),
    P("bitbucket-app-password", "Bitbucket app password", "ATBB", CS_ALNUM, 32, 64, SF_MIXED, HIGH),
    P("npm-token", "npm access token", "npm_", CS_ALNUM, 36, 36, SF_MIXED, HIGH),
    PO("pypi-token", "PyPI upload token", "pypi-AgEIcHlwaS5vcmc", CS_WD, 50, SF_MIXED, HIGH),
    PO("pypi-token", "PyPI upload token", "pypi-AgENdGVzdC5weXBpLm9yZw", CS_WD, 50, SF_MIXED, HIGH),
    P("rubygems-api-key", "RubyGems API key", "rubygems_", CS_ALNUM, 48, 48, SF_MIXED, HIGH),
    P("dockerhub-pat", "Docker Hub access token", "dckr_pat_", CS_WD, 27, 27, SF_MIXED, HIGH),
    P("nuget-api-key", "NuGet API key", "oy2", CS_LALNUM, 43, 43, SF_MIXED, HIGH),
    P("clojars-token", "Clojars deploy token", "CLOJARS_", CS_LALNUM, 60, 60, SF_MIXED, HIGH),
    P("artifactory-api-key", "Artifactory API key", "AKCp", CS_ALNUM, 69, 69, SF_MIXED, HIGH),
    P("artifactory-reference-token", "Artifactory reference token", "cmVmdGtu", CS_ALNUM, 56, 56, SF_MIXED, HIGH),
    P("buildkite-token", "Buildkite token", "bkua_", CS_LALNUM, 40, 40, SF_MIXED, HIGH),
    C("sourcegraph-token", "Sourcegraph access token", "sgp_", c_sourcegraph, 0, EX, HIGH),
    P("figma-pat", "Figma personal access token", "figd_", CS_B64X, 38, 48, SF_MIXED, HIGH),
    P("figma-pat", "Figma personal access token", "figp_", CS_B64X, 38, 48, SF_MIXED, HIGH),
    P("linear-api-key", "Linear API key", "lin_api_", CS_ALNUM, 40, 40, SF_MIXED, HIGH),
    P("postman-api-key", "Postman API key", "PMAK-", CS_WD, 40, 80, SF_MIXED, HIGH),
    P("prefect-api-key", "Prefect API key", "pnu_", CS_ALNUM, 36, 36, SF_MIXED, HIGH),
    P("readme-api-key", "ReadMe API key", "rdme_", CS_LALNUM, 70, 70, SF_MIXED, HIGH),
    P("infracost-api-token", "Infracost API token", "ico-", CS_ALNUM, 32, 32, SF_MIXED, HIGH),
    P("typeform-token", "Typeform personal token", "tfp_", CS_B64X, 40, 70, SF_MIXED, HIGH),
    P("adafruit-io-key", "Adafruit IO key", "aio_", CS_ALNUM, 28, 28, SF_MIXED, HIGH),
    P("apify-token", "Apify API token", "apify_api_", CS_WD, 36, 36, SF_MIXED, HIGH),
    K("atlassian-api-token", "Atlassian API token", "atlassian confluence jira",
      CS_ALNUM, 24, 24, SF_MIXED, HIGH),
    P("atlassian-api-token", "Atlassian API token", "ATATT3", CS_B64X, 150, 250, SF_MIXED, HIGH),
    K("okta-api-token", "Okta API token", "okta", CS_WD, 42, 42, SF_MIXED, HIGH),
    C("1password-secret-key", "1Password secret key", "A3-", c_1password_key, 0, EX, CRIT),
    {"1password-service-account-token", "1Password service account token", "ops_eyj",
     c_b64json_token, x_b64json_token, "ops_eyJ", CS_B64E, 100, 65535, 0, SF_OPEN, CRIT},
    P("intra42-client-secret", "42 Intra client secret", "s-s4t2ud-", CS_HEXL, 64, 64, 0, HIGH),
    P("intra42-client-secret", "42 Intra client secret", "s-s4t2af-", CS_HEXL, 64, 64, 0, HIGH),
    C("maxmind-license-key", "MaxMind license key", "_mmk", c_maxmind, 36, SF_KWCASE, HIGH),
    P("clickhouse-api-secret", "ClickHouse Cloud API secret", "4b1d", CS_ALNUM, 38, 38, SF_MIXED, HIGH),
    P("rootly-api-key", "Rootly API key", "rootly_", CS_HEXL, 64, 64, 0, HIGH),
    P("posthog-api-key", "PostHog personal API key", "phx_", CS_W, 43, 43, SF_MIXED, HIGH),
    C("notion-token", "Notion integration token", "ntn_", c_notion, 0, EX, HIGH),
    P("notion-token", "Notion integration token", "secret_", CS_ALNUM, 43, 43, SF_MIXED, HIGH),
    {"sentry-token", "Sentry organization token", "sntrys_eyj",
     c_b64json_token, x_b64json_token, "sntrys_eyJ", CS_B64X, 60, 65535, 0, SF_OPEN, HIGH},
    C("sentry-token", "Sentry user token", "sntryu_", c_sentry_user, 0, EX, HIGH),
    P("grafana-token", "Grafana Cloud token", "glc_", CS_B64E, 32, 400, SF_MIXED, HIGH),
    C("grafana-token", "Grafana service account token", "glsa_", c_glsa, 0, EX, HIGH),
    P("grafana-token", "Grafana API key", "eyJrIjoi", CS_B64E, 70, 400, SF_MIXED, HIGH),
    P("newrelic-key", "New Relic key", "NRAK-", CS_UALNUM, 27, 27, SF_MIXED, HIGH),
    P("newrelic-key", "New Relic key", "NRJS-", CS_HEXL, 19, 19, 0, HIGH),
    P("newrelic-key", "New Relic key", "NRBR-", CS_HEXL, 19, 19, 0, HIGH),
    P("newrelic-key", "New Relic key", "NRII-", CS_WD, 32, 32, SF_MIXED, HIGH),
    P("newrelic-key", "New Relic key", "NRAA-", CS_HEXL, 27, 27, 0, HIGH),
    P("easypost-api-key", "EasyPost API key", "EZAK", CS_ALNUM, 54, 54, SF_MIXED, HIGH),
    P("easypost-api-key", "EasyPost API key", "EZTK", CS_ALNUM, 54, 54, SF_MIXED, HIGH),
    C("age-secret-key", "age secret key", "AGE-SECRET-KEY-1", c_age, 0, EX, CRIT),

    /* AI providers */
    C("openai-api-key", "OpenAI API key", "sk-", c_openai, 0, EX, CRIT),
    P("anthropic-api-key", "Anthropic API key", "sk-ant-api03-", CS_WD, 95, 95, SF_MIXED, CRIT),
    P("anthropic-api-key", "Anthropic API key", "sk-ant-admin01-", CS_WD, 95, 95, SF_MIXED, CRIT),
    P("openrouter-api-key", "OpenRouter API key", "sk-or-v1-", CS_HEXL, 64, 64, 0, HIGH),
    P("groq-api-key", "Groq API key", "gsk_", CS_ALNUM, 52, 52, SF_MIXED, HIGH),
    P("perplexity-api-key", "Perplexity API key", "pplx-", CS_ALNUM, 48, 48, SF_MIXED, HIGH),
    P("nvidia-api-key", "NVIDIA API key", "nvapi-", CS_WD, 64, 64, SF_MIXED, HIGH),
    P("elevenlabs-api-key", "ElevenLabs API key", "sk_", CS_HEXL, 48, 48, 0, HIGH),
    C("langsmith-api-key", "LangSmith API key", "lsv2_pt_", c_langsmith, 0, EX, HIGH),
    C("langsmith-api-key", "LangSmith API key", "lsv2_sk_", c_langsmith, 0, EX, HIGH),
    P("huggingface-token", "Hugging Face token", "hf_", CS_ALPHA, 34, 34, 0, HIGH),
    P("huggingface-org-token", "Hugging Face organization token", "api_org_", CS_ALPHA, 34, 34, 0, HIGH),
    P("replicate-api-token", "Replicate API token", "r8_", CS_ALNUM, 37, 37, SF_MIXED, HIGH),
    C("pinecone-api-key", "Pinecone API key", "pcsk_", c_pinecone, 0, EX, HIGH),

    /* payments */
    P("stripe-secret-key", "Stripe secret key", "sk_live_", CS_ALNUM, 24, 247, SF_MIXED, CRIT),
    P("stripe-secret-key", "Stripe secret key", "rk_live_", CS_ALNUM, 24, 247, SF_MIXED, CRIT),
    P("stripe-secret-key", "Stripe secret key", "sk_test_", CS_ALNUM, 24, 247, SF_MIXED, HIGH),
    P("stripe-secret-key", "Stripe secret key", "rk_test_", CS_ALNUM, 24, 247, SF_MIXED, HIGH),
    P("square-access-token", "Square access token", "sq0atp-", CS_WD, 22, 22, SF_MIXED, HIGH),
    P("square-access-token", "Square OAuth secret", "sq0csp-", CS_WD, 43, 43, SF_MIXED, HIGH),
    P("square-access-token", "Square access token", "EAAA", CS_WD, 60, 60, SF_MIXED, HIGH),
    C("flutterwave-secret-key", "Flutterwave secret key", "FLWSECK", c_flutterwave, 0, EX, HIGH),
    P("shopify-token", "Shopify access token", "shpat_", CS_HEX, 32, 32, 0, HIGH),
    P("shopify-token", "Shopify access token", "shpca_", CS_HEX, 32, 32, 0, HIGH),
    P("shopify-token", "Shopify access token", "shppa_", CS_HEX, 32, 32, 0, HIGH),
    P("shopify-token", "Shopify shared secret", "shpss_", CS_HEX, 32, 32, 0, HIGH),
    P("shippo-api-token", "Shippo API token", "shippo_live_", CS_HEXL, 40, 40, 0, HIGH),
    PO("facebook-access-token", "Facebook access token", "EAACEdEose0cBA", CS_ALNUM, 20, SF_MIXED, HIGH),
    PO("facebook-access-token", "Facebook access token", "EAAM", CS_ALNUM, 100, SF_MIXED, HIGH),
    C("facebook-access-token", "Facebook app access token", "|", c_fb_app_token, 16, 0, HIGH),
    K("facebook-app-secret", "Facebook app secret", "facebook", CS_HEXL, 32, 32, 0, HIGH),

    /* messaging and mail */
    C("slack-token", "Slack token", "xoxa- xoxb- xoxe- xoxo- xoxp- xoxr- xoxs- xoxe.xox", c_slack, 0, EX, CRIT),
    C("slack-app-token", "Slack app-level token", "xapp-", c_slack_app, 0, EX, HIGH),
    C("slack-webhook-url", "Slack webhook URL", "hooks.slack.com/", c_slack_hook, 8, 0, HIGH),
    C("discord-webhook-url", "Discord webhook URL", "discord.com/api/webhooks/ discordapp.com/api/webhooks/",
      c_discord_hook, 8, 0, HIGH),
    C("discord-bot-token", "Discord bot token", "discord", c_discord_bot, 0, 0, HIGH),
    C("discord-bot-token", "Discord bot token", "MT Mj Mz ND NT Nj Nz OD OT", c_discord_bare, 0, EX, HIGH),
    C("telegram-bot-token", "Telegram bot token", ":A", c_telegram, 16, SF_KWCASE, HIGH),
    C("sendgrid-api-key", "SendGrid API key", "SG.", c_sendgrid, 0, EX, HIGH),
    C("brevo-api-key", "Brevo (Sendinblue) API key", "xkeysib-", c_brevo, 0, EX, HIGH),
    C("brevo-api-key", "Brevo (Sendinblue) SMTP key", "xsmtpsib-", c_brevo, 0, EX, HIGH),
    C("mailchimp-api-key", "Mailchimp API key", "-us", c_mailchimp, 32, SF_KWCASE, HIGH),
    C("mailgun-api-key", "Mailgun API key", "key-", c_mailgun, 0, EX, HIGH),
    P("twilio-api-key", "Twilio API key", "SK", CS_HEXL, 32, 32, 0, HIGH),
    K("twilio-auth-token", "Twilio auth token", "twilio", CS_HEXL, 32, 32, 0, HIGH),

    /* blocks, URIs and generic assignments */
    CO("private-key", "private key block", "-----BEGIN", secret_pem, secret_pem_extend, 0, SF_KWCASE, CRIT),
    CO("jwt", "JSON Web Token", "eyJ", secret_jwt, secret_jwt_extend, 0, EX, HIGH),
    CO("db-connection-uri", "database URI with a password", "://", secret_uri, secret_uri_extend, 20, 0, CRIT),
    CO("url-with-credentials", "URL with a password", "://", secret_uri, secret_uri_extend, 20, 0, HIGH),
    C("generic-api-key", "hard-coded credential", "key secret token auth cred bearer", secret_generic, 0, 0, MED),
    C("generic-password", "hard-coded password", "pass pwd", secret_generic, 0, 0, MED),
};

const size_t scan_secret_nrules = sizeof scan_secret_rules / sizeof scan_secret_rules[0];
