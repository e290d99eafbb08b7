/* scan.h — flint's secrets-and-injection scanner (module prefix scan_).
 *
 * Every chunk of generated text passes a scan stream before the editor sees
 * it, and every piece of context passes scan_context() before it reaches the
 * model. Four kinds of findings:
 *
 *   secret            credentials with an exact format (cloud, code hosting,
 *                     registries, AI providers, payments, messaging, private
 *                     key blocks, JWTs, credentials in URIs, ...) and generic
 *                     `key = "value"` assignments with a high-entropy value
 *   injection         generated code that builds SQL or shell commands from
 *                     non-literal data, evaluates non-literals, opens paths
 *                     from request input, or writes non-literal HTML
 *   unicode           bidi controls, invisible characters, tag and
 *                     variation-selector smuggling, mixed-script identifiers
 *   prompt-injection  (context only) instructions aimed at the model inside
 *                     comments or strings
 *
 * Each rule has an action: redact (the matched bytes never leave the scanner;
 * a visible marker "[REDACTED:<rule>]" takes their place), halt (the stream
 * stops before the finding; the server then sends a final chunk with reason
 * "blocked" and the finding's message) or warn (reported only). A halt is
 * decided as soon as its finding is: a statement longer than SCAN_HOLD_MAX
 * may have been emitted in part before its verdict, and then the stream
 * stops at once (so the emitted text of a halted stream may depend on the
 * chunking; the findings never do).
 *
 * Contract
 *  - Findings depend on the text only, never on how it was split into chunks:
 *    scan_text() over a whole buffer and any sequence of scan_feed() calls
 *    over the same bytes followed by scan_finish() yield the same set of
 *    findings (order may differ; sort by start, end, rule to compare).
 *  - A stream holds back only a tail that could still become a finding (at
 *    most SCAN_HOLD_MAX bytes), except inside a confirmed multi-line or long
 *    secret (PEM block, JWT, credential URI), whose bytes stay suppressed
 *    until the block ends, and (role context) a comment block carrying a
 *    prompt injection, suppressed until it ends. Bytes of a redacted finding are never emitted, and
 *    never appear in messages, logs or errors.
 *  - Offsets: start/end are byte offsets into the text that was scanned (the
 *    concatenation of all fed chunks); out_start/out_end are byte offsets into
 *    the text the scanner emitted (with markers substituted), i.e. the text
 *    the client is sent for role output, or the masked text of
 *    scan_context().
 *  - A scan_rules object is built once and may be shared by any number of
 *    threads; each stream belongs to one thread at a time. The allow-list
 *    inside a rules object has its own lock and may change while streams run.
 *  - Buffers that held secret bytes are wiped with sodium_memzero before they
 *    are released.
 *  - Errors: functions returning int return 0 on success and a negative
 *    SCAN_E* code on failure; functions taking (err, errlen) fill err with a
 *    one-line reason that never contains scanned text.
 */
#ifndef FLINT_SCAN_H
#define FLINT_SCAN_H

#include <stddef.h>

#define SCAN_HOLD_MAX 300   /* bytes a stream may hold back outside a block */
#define SCAN_FP_BYTES 32    /* keyed BLAKE2b fingerprint of a secret */

enum { SCAN_ENOMEM = -1, SCAN_EINVAL = -2, SCAN_EIO = -3, SCAN_EFORMAT = -4 };

typedef enum {
    SCAN_KIND_SECRET, SCAN_KIND_INJECTION, SCAN_KIND_UNICODE, SCAN_KIND_PROMPT
} scan_kind;

typedef enum { SCAN_ACT_OFF, SCAN_ACT_WARN, SCAN_ACT_REDACT, SCAN_ACT_HALT } scan_action;

typedef enum { SCAN_SEV_LOW, SCAN_SEV_MEDIUM, SCAN_SEV_HIGH, SCAN_SEV_CRITICAL } scan_severity;

typedef enum { SCAN_ROLE_OUTPUT, SCAN_ROLE_CONTEXT } scan_role;

typedef struct scan_finding {
    const char *rule;            /* rule id, e.g. "aws-access-key-id" (static) */
    scan_kind kind;
    scan_severity severity;
    scan_action action;          /* never SCAN_ACT_OFF */
    size_t start, end;           /* bytes [start, end) of the scanned text */
    size_t out_start, out_end;   /* where it sits in the emitted text */
    char message[200];           /* for people; never contains the match */
    int has_fingerprint;         /* secrets: fingerprint below is valid */
    unsigned char fingerprint[SCAN_FP_BYTES];
} scan_finding;

typedef struct scan_rules scan_rules;
typedef struct scan_stream scan_stream;
typedef struct scan_allow scan_allow;

/* What one scan_feed()/scan_finish() call produced. All pointers belong to
 * the stream and stay valid until its next call or scan_stream_free(). */
typedef struct {
    const char *text;            /* bytes safe to show now (whole UTF-8) */
    size_t len;
    const scan_finding *findings;/* findings decided during this call (never NULL) */
    size_t nfindings;
    int halted;                  /* a halt finding stopped the stream: set once
                                    the text before it was emitted; nothing
                                    more is emitted after that */
    const scan_finding *halt;    /* the first halt finding decided, or NULL */
} scan_result;

/* ---- rule set --------------------------------------------------------- */

/* Builds the rule set with default actions, then applies `config` (NULL or
 * "" for none). Config: one setting per line, "PATTERN = ACTION", where
 * PATTERN is a rule id, a kind (secret, injection, unicode,
 * prompt-injection) or a rule-id prefix ending in '*', and ACTION is redact,
 * halt, warn or off; '#' starts a comment; later lines win. Injection rules
 * cannot redact (a verdict may come after part of its statement was
 * emitted): redact means halt for them. Returns NULL with err filled on a
 * bad line or out of memory. */
scan_rules *scan_rules_new(const char *config, char *err, size_t errlen);

/* Applies one more config text to rules that no stream uses yet. Returns 0,
 * or SCAN_EFORMAT with err naming the bad line. */
int scan_rules_configure(scan_rules *r, const char *config, char *err, size_t errlen);

/* Frees the rule set (and its allow-list). NULL is a no-op. */
void scan_rules_free(scan_rules *r);

/* Number of rules, and rule i's id, kind, default description and current
 * action (for help screens and `:FlintScan`). Returns NULL past the end. */
size_t scan_rule_count(const scan_rules *r);
const char *scan_rule_info(const scan_rules *r, size_t i, scan_kind *kind,
                           scan_action *action, const char **description);

/* The rule set's allow-list (never NULL); see the allow-list section. */
scan_allow *scan_rules_allowlist(const scan_rules *r);

/* ---- streams ---------------------------------------------------------- */

/* Starts a stream for one completion (role output) or one context buffer
 * (role context). filetype is the editor's filetype ("python", "c", ...,
 * NULL or "" when unknown); it picks the injection and comment rules.
 * Returns NULL when out of memory. */
scan_stream *scan_stream_new(const scan_rules *r, scan_role role, const char *filetype);

/* Scans the next chunk. Fills *out with the bytes that are now safe to emit
 * (redaction markers substituted) and the findings decided so far that were
 * not yet reported. After a halt the stream keeps scanning (findings still
 * arrive) but emits nothing more. Returns 0 or SCAN_ENOMEM/SCAN_EINVAL. */
int scan_feed(scan_stream *s, const char *chunk, size_t len, scan_result *out);

/* Ends the stream: decides everything still pending and emits the rest.
 * Feeding after finish is SCAN_EINVAL. Returns 0 or a negative code. */
int scan_finish(scan_stream *s, scan_result *out);

/* Bytes received but not emitted yet (held back, suppressed or waiting
 * behind a halt). *in_block (optional) is set while a confirmed secret is
 * suppressed and its marker not yet emitted (a PEM block, JWT, credential
 * URI, ... may run long) or, for role context, while a prompt-injection
 * comment block is open (at most 64 KiB): the only cases where the held part
 * of a stream that did not halt may exceed SCAN_HOLD_MAX. */
size_t scan_stream_held(const scan_stream *s, int *in_block);

/* Wipes and frees the stream. NULL is a no-op. */
void scan_stream_free(scan_stream *s);

/* ---- whole buffers ---------------------------------------------------- */

/* Scans a whole buffer as one stream. On success *findings is a malloc'd
 * array of *n findings sorted by (start, end, rule) (free with free(); NULL
 * when n is 0). Returns 0 or a negative code. */
int scan_text(const scan_rules *r, scan_role role, const char *filetype,
              const char *text, size_t len, scan_finding **findings, size_t *n);

/* Prepares context for the model: returns in *masked (malloc'd, NUL-ended,
 * length *masked_len) the text with every secret replaced by its marker and
 * every prompt-injection or hidden-text span replaced by its marker (halt
 * actions count as redact here: context is neutralised, never refused), and
 * the findings as scan_text() does; out_start/out_end locate the markers in
 * *masked. Returns 0 or a negative code (then nothing is allocated). */
int scan_context(const scan_rules *r, const char *filetype, const char *text, size_t len,
                 char **masked, size_t *masked_len, scan_finding **findings, size_t *n);

/* Lower-case names for JSON and messages: "secret", "redact", "high", ... */
const char *scan_kind_name(scan_kind k);
const char *scan_action_name(scan_action a);
const char *scan_severity_name(scan_severity s);

/* ---- allow-list ------------------------------------------------------- */
/* Known-good secrets (test fixtures, public demo keys) are allowed by their
 * keyed BLAKE2b fingerprint: crypto_generichash(secret, key) with a random
 * 32-byte key per allow-list. Only fingerprints are stored, never secrets. A
 * secret whose fingerprint is listed produces no finding. */

/* Adds a finding's fingerprint. Returns 0, or SCAN_EINVAL when the finding
 * has no fingerprint (only secrets have one), or SCAN_ENOMEM. */
int scan_allow_add_finding(scan_allow *a, const scan_finding *f);

/* Adds a raw fingerprint (as computed with this list's key). */
int scan_allow_add(scan_allow *a, const unsigned char fp[SCAN_FP_BYTES]);

/* 1 when the fingerprint is listed, else 0. */
int scan_allow_contains(scan_allow *a, const unsigned char fp[SCAN_FP_BYTES]);

/* Number of listed fingerprints. */
size_t scan_allow_count(scan_allow *a);

/* Computes the fingerprint of `secret` with this list's key into fp. */
void scan_allow_fingerprint(scan_allow *a, const char *secret, size_t len,
                            unsigned char fp[SCAN_FP_BYTES]);

/* Replaces the list (key and fingerprints) with the file's contents. A
 * missing file is not an error: the list is left as it is. Returns 0 or
 * SCAN_EIO/SCAN_EFORMAT with err filled. */
int scan_allow_load(scan_allow *a, const char *path, char *err, size_t errlen);

/* Writes the list (key and fingerprints, text, mode 0600) atomically via a
 * temporary file. Returns 0 or SCAN_EIO with err filled. */
int scan_allow_save(scan_allow *a, const char *path, char *err, size_t errlen);

#endif
