/* verify.h — integrity check of shipped model files.
 *
 * A folder of shipped models carries `checksums.b2`: one line per file,
 * "<128 hex digits of BLAKE2b-512>  <file name>". A model file whose folder
 * has that list and whose name is in it must match its digest.
 */
#ifndef FLINT_VERIFY_H
#define FLINT_VERIFY_H

#include <stddef.h>

/* Returns 0 if the file is not listed (or there is no list) or its digest
 * matches; -1 with a message in err on a mismatch or a read error. */
int verify_model_checksum(const char *path, char *err, size_t errlen);

/* BLAKE2b-512 of a whole file as 128 lowercase hex digits + NUL into hex[129].
 * Returns 0, or -1 with err set. */
int verify_file_digest(const char *path, char hex[129], char *err, size_t errlen);

#endif
