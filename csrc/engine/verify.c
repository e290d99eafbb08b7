/* verify.c — BLAKE2b-512 digests of model files against checksums.b2 (libsodium). */
#include "engine/verify.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int verify_file_digest(const char *path, char hex[129], char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return fl_seterr(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 64);
    static __thread unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_generichash_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return fl_seterr(err, errlen, "read error on '%s'", path);
    unsigned char out[64];
    crypto_generichash_final(&st, out, sizeof out);
    sodium_bin2hex(hex, 129, out, sizeof out);
    return 0;
}

/* Find the digest listed for `name` in the list file; 1 if found. */
static int listed_digest(FILE *list, const char *name, char want[129]) {
    char line[1024];
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\r\n")] = 0;
        char *sep = strstr(line, "  ");
        if (!sep || sep - line != 128) continue;
        if (strcmp(sep + 2, name)) continue;
        memcpy(want, line, 128);
        want[128] = 0;
        return 1;
    }
    return 0;
}

int verify_model_checksum(const char *path, char *err, size_t errlen) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    char *listpath = malloc(dirlen + sizeof "checksums.b2");
    if (!listpath) return fl_seterr(err, errlen, "out of memory");
    memcpy(listpath, path, dirlen);
    strcpy(listpath + dirlen, "checksums.b2");
    FILE *list = fopen(listpath, "r");
    free(listpath);
    if (!list) return 0;
    char want[129];
    int found = listed_digest(list, name, want);
    fclose(list);
    if (!found) return 0;
    char got[129];
    if (verify_file_digest(path, got, err, errlen)) return -1;
    if (strcmp(got, want))
        return fl_seterr(err, errlen,
                         "model file '%s' does not match its BLAKE2b checksum in checksums.b2 (corrupt or replaced); "
                         "re-fetch it or run 'make model'",
                         path);
    return 0;
}
