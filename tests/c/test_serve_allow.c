/* test_serve_allow.c — the `allow` method of `flint serve` (msgpack-RPC):
 * secret findings carry an opaque allow_id (never the secret or its
 * fingerprint); `allow` makes that secret pass later scans; --allowlist
 * keeps the list across server runs as fingerprints only (mode 0600); bad
 * ids and a broken list file are refused. No model is needed. */
#include <sys/stat.h>

#include "serve_client.h"
#include "tap.h"

#define T 20000
/* split so that this file holds no complete credential */
#define KEY "AKIA" "QW3RT8YU2IOP5ASD"
#define KEY2 "AKIA" "ZX4CV5BN6MLK7JHG"

static long long next_id = 1;

/* The findings of a scan of text (new reference; NULL on error). */
static json_t *scan(sc_client *c, const char *text) {
    json_t *r = sc_call(c, next_id++, "scan", json_pack("{s:s, s:s, s:s}", "text", text, "role", "output",
                                                        "filetype", "python"), NULL, NULL, T);
    json_t *f = r ? json_incref(json_object_get(r, "findings")) : NULL;
    json_decref(r);
    return f;
}

static json_t *allow(sc_client *c, json_t *params, json_t **err) {
    return sc_call(c, next_id++, "allow", params, err, NULL, T);
}

static int start(sc_client *c, const char *list) {
    const char *args[] = {"--model", "/nonexistent.gguf", "--allowlist", list, NULL};
    return sc_start(c, 0, args);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_session(sc_client *c, const char *list) {
    const char *code = "aws_key = \"" KEY "\"\nother = \"" KEY2 "\"\nos.system(\"ls \" + name)\n";
    json_t *f = scan(c, code);
    CHECK(json_array_size(f) == 3, "three findings: two keys and a command injection");
    json_t *k1 = json_array_get(f, 0), *inj = json_array_get(f, 2);
    json_int_t id = json_integer_value(json_object_get(k1, "allow_id"));
    CHECK(id > 0 && !json_object_get(k1, "fingerprint"), "a secret finding carries an allow_id, not its fingerprint");
    CHECK(!json_object_get(inj, "allow_id"), "an injection finding has no allow_id");
    char *dump = json_dumps(f, 0);
    CHECK(dump && !strstr(dump, KEY) && !strstr(dump, "AKIA"), "the findings never hold the secret");
    free(dump);

    json_t *err = NULL;
    json_t *r = allow(c, json_pack("{s:I}", "allow_id", id), &err);
    CHECK(r && !strcmp(sc_str(json_object_get(r, "rule")), "aws-access-key-id") &&
              json_integer_value(json_object_get(r, "count")) == 1 && json_is_true(json_object_get(r, "saved")),
          "allow answers with the rule, the list's size and that it was saved");
    json_decref(r);
    json_decref(f);
    f = scan(c, code);
    CHECK(json_array_size(f) == 2 && json_integer_value(json_object_get(json_array_get(f, 0), "start")) ==
                                         (json_int_t)strlen("aws_key = \"" KEY "\"\nother = \""),
          "the allowed key is no longer a finding; the other key still is");
    json_decref(f);

    r = allow(c, json_pack("{s:I}", "allow_id", (json_int_t)999999), &err);
    CHECK(!r && err && strstr(sc_str(err), "no finding with allow_id 999999"), "an unknown allow_id is refused");
    json_decref(err);
    err = NULL;
    r = allow(c, json_object(), &err);
    CHECK(!r && err && strstr(sc_str(err), "allow_id"), "allow without allow_id is refused, naming the field");
    json_decref(err);

    struct stat st;
    char *text = slurp(list);
    CHECK(text && !stat(list, &st) && (st.st_mode & 0777) == 0600, "the allow-list file is written with mode 0600");
    CHECK(text && !strstr(text, KEY) && !strstr(text, "AKIA"), "the allow-list file holds no secret");
}

int main(void) {
    char list[] = "/tmp/flint-allow-XXXXXX";
    int fd = mkstemp(list);
    if (fd < 0) return CHECK(0, "mkstemp"), tap_done();
    close(fd);
    unlink(list); /* a missing file is an empty list */
    sc_client c;
    if (start(&c, list)) return CHECK(0, "spawn"), tap_done();
    test_session(&c, list);
    CHECK(sc_finish(&c, 5000) == 0, "the server exits with status 0");

    if (start(&c, list)) return CHECK(0, "spawn again"), tap_done();
    json_t *f = scan(&c, "k = \"" KEY "\"\n");
    CHECK(f && json_array_size(f) == 0, "a new server with the same --allowlist still allows the key");
    json_decref(f);
    sc_finish(&c, 5000);

    FILE *bad = fopen(list, "w");
    fputs("not an allow-list\n", bad);
    fclose(bad);
    if (start(&c, list)) return CHECK(0, "spawn with a broken list"), tap_done();
    CHECK(sc_finish(&c, 5000) == 1, "a broken allow-list file stops the server at start (status 1)");
    unlink(list);
    return tap_done();
}
