/* gguf_write.h — build a GGUF v3 file in memory and write it out.
 *
 * Used by `flint synth` (random-weight models of real shapes) and by tests
 * that need well-formed or deliberately broken files. Metadata is appended in
 * call order; tensor data is referenced, not copied, and must stay alive until
 * gw_finish(). Allocation failures are sticky: gw_finish() reports them.
 */
#ifndef FLINT_GGUF_WRITE_H
#define FLINT_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gguf_writer gguf_writer;

gguf_writer *gw_new(void);
void gw_free(gguf_writer *w);

void gw_str(gguf_writer *w, const char *key, const char *val);
void gw_u32(gguf_writer *w, const char *key, uint32_t val);
void gw_i32(gguf_writer *w, const char *key, int32_t val);
void gw_f32(gguf_writer *w, const char *key, float val);
void gw_bool(gguf_writer *w, const char *key, int val);
void gw_arr_str(gguf_writer *w, const char *key, const char *const *vals, size_t n);
void gw_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, size_t n);
void gw_arr_f32(gguf_writer *w, const char *key, const float *vals, size_t n);

/* A tensor of ggml type `type` with n_dims dims ne[] (ne[0] fastest); data
 * must hold exactly the type's row size × rows bytes. */
void gw_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne, const void *data);

/* Serialise to a malloc'd buffer. Returns 0, or -1 on out-of-memory. */
int gw_finish(gguf_writer *w, uint8_t **out, size_t *len);

/* Serialise straight to a file (tensor data streamed, not copied). Returns 0,
 * or -1 with err set. */
int gw_write_file(gguf_writer *w, const char *path, char *err, size_t errlen);

#endif
