/* allow.c — the allow-list of known-good secrets, stored as keyed BLAKE2b
 * fingerprints (libsodium crypto_generichash with a random 32-byte key per
 * list). The file holds the key and the fingerprints in hex, never a secret.
 * All operations lock the list, so streams may consult it while the editor
 * adds to it. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/scan_int.h"

#define ALLOW_MAGIC "# flint allow-list v1: keyed BLAKE2b-256 fingerprints, no secrets"

struct scan_allow {
    pthread_mutex_t mu;
    unsigned char key[crypto_generichash_KEYBYTES];
    unsigned char (*fp)[SCAN_FP_BYTES];
    size_t n, cap;
};

scan_allow *scan_allow_new(void) {
    if (sodium_init() < 0) return NULL;
    scan_allow *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_mutex_init(&a->mu, NULL);
    randombytes_buf(a->key, sizeof a->key);
    return a;
}

void scan_allow_free(scan_allow *a) {
    if (!a) return;
    sodium_memzero(a->key, sizeof a->key);
    free(a->fp);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

void scan_allow_fingerprint(scan_allow *a, const char *secret, size_t len,
                            unsigned char fp[SCAN_FP_BYTES]) {
    pthread_mutex_lock(&a->mu);
    crypto_generichash(fp, SCAN_FP_BYTES, (const unsigned char *)secret, len, a->key, sizeof a->key);
    pthread_mutex_unlock(&a->mu);
}

static int find_locked(scan_allow *a, const unsigned char *fp) {
    for (size_t i = 0; i < a->n; i++)
        if (!sodium_memcmp(a->fp[i], fp, SCAN_FP_BYTES)) return 1;
    return 0;
}

static int add_locked(scan_allow *a, const unsigned char *fp) {
    if (find_locked(a, fp)) return 0;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        void *q = realloc(a->fp, nc * sizeof *a->fp);
        if (!q) return SCAN_ENOMEM;
        a->fp = q;
        a->cap = nc;
    }
    memcpy(a->fp[a->n++], fp, SCAN_FP_BYTES);
    return 0;
}

int scan_allow_add(scan_allow *a, const unsigned char fp[SCAN_FP_BYTES]) {
    pthread_mutex_lock(&a->mu);
    int rc = add_locked(a, fp);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int scan_allow_add_finding(scan_allow *a, const scan_finding *f) {
    if (!f || !f->has_fingerprint) return SCAN_EINVAL;
    return scan_allow_add(a, f->fingerprint);
}

int scan_allow_contains(scan_allow *a, const unsigned char fp[SCAN_FP_BYTES]) {
    pthread_mutex_lock(&a->mu);
    int r = find_locked(a, fp);
    pthread_mutex_unlock(&a->mu);
    return r;
}

size_t scan_allow_count(scan_allow *a) {
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    pthread_mutex_unlock(&a->mu);
    return n;
}

static int unhex(const char *s, unsigned char *out, size_t n) {
    size_t bin_len = 0;
    if (strlen(s) != 2 * n) return -1;
    if (sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, NULL) < 0 || bin_len != n) return -1;
    return 0;
}

int scan_allow_load(scan_allow *a, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "allow-list %s: %s", path, strerror(errno));
        return SCAN_EIO;
    }
    scan_allow *tmp = scan_allow_new();
    if (!tmp) { fclose(f); snprintf(err, errlen, "allow-list: out of memory"); return SCAN_ENOMEM; }
    char line[256];
    int lineno = 0, rc = 0, have_key = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        unsigned char fp[SCAN_FP_BYTES];
        if (!strncmp(line, "key ", 4) && !unhex(line + 4, tmp->key, sizeof tmp->key)) {
            have_key = 1;
        } else if (!unhex(line, fp, sizeof fp)) {
            if ((rc = add_locked(tmp, fp)) < 0) break;
        } else {
            snprintf(err, errlen, "allow-list %s:%d: expected 'key HEX' or a 64-digit fingerprint",
                     path, lineno);
            rc = SCAN_EFORMAT;
            break;
        }
    }
    fclose(f);
    if (!rc && !have_key) {
        snprintf(err, errlen, "allow-list %s: no key line", path);
        rc = SCAN_EFORMAT;
    }
    if (rc == SCAN_ENOMEM) snprintf(err, errlen, "allow-list: out of memory");
    if (!rc) {
        pthread_mutex_lock(&a->mu);
        memcpy(a->key, tmp->key, sizeof a->key);
        free(a->fp);
        a->fp = tmp->fp;
        a->n = tmp->n;
        a->cap = tmp->cap;
        tmp->fp = NULL;
        pthread_mutex_unlock(&a->mu);
    }
    scan_allow_free(tmp);
    return rc;
}

int scan_allow_save(scan_allow *a, const char *path, char *err, size_t errlen) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errlen, "allow-list: path too long");
        return SCAN_EIO;
    }
    mode_t old = umask(077);
    FILE *f = fopen(tmp, "w");
    umask(old);
    if (!f) {
        snprintf(err, errlen, "allow-list %s: %s", tmp, strerror(errno));
        return SCAN_EIO;
    }
    char hex[2 * crypto_generichash_KEYBYTES + 1];
    pthread_mutex_lock(&a->mu);
    fprintf(f, "%s\nkey %s\n", ALLOW_MAGIC, sodium_bin2hex(hex, sizeof hex, a->key, sizeof a->key));
    for (size_t i = 0; i < a->n; i++)
        fprintf(f, "%s\n", sodium_bin2hex(hex, sizeof hex, a->fp[i], SCAN_FP_BYTES));
    pthread_mutex_unlock(&a->mu);
    sodium_memzero(hex, sizeof hex);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "allow-list %s: %s", path, strerror(errno));
        remove(tmp);
        return SCAN_EIO;
    }
    return 0;
}
