/* rpc.h — flint's RPC layer (module prefix rpc_): two wire framings, one
 * message representation, one dispatch table.
 *
 *   msgpack-RPC  (Neovim `jobstart(..., {rpc = true})`, C clients), decoded
 *                with msgpack-c;
 *   Vim JSON     (Vim `job_start(..., {'mode': 'json'})`), decoded and
 *                encoded with jansson.
 *
 * Both decode into the same tree of rpc_val (nil, bool, int, float, string,
 * array, map) allocated in a per-message arena, and both encode from it. The
 * wire formats are specified in doc/protocol.md.
 *
 * Input is treated as hostile. A streaming frame scanner finds the end of
 * each message before any library parses it, so a message longer than the cap
 * is skipped without being buffered (and a 5-byte msgpack header that claims
 * 2^32 elements never makes msgpack-c allocate for them). Malformed bytes are
 * skipped to the next place a message can start; every problem is reported
 * through the reader's on_error callback and the stream stays usable.
 *
 * Errors: functions returning int return 0 on success and a negative value on
 * failure; functions taking (err, errlen) fill err with one line that may go
 * to the client verbatim.
 */
#ifndef FLINT_RPC_H
#define FLINT_RPC_H

#include <stddef.h>
#include <stdint.h>

/* ---- values ----------------------------------------------------------- */

typedef enum { RPC_NIL, RPC_BOOL, RPC_INT, RPC_FLOAT, RPC_STR, RPC_ARR, RPC_MAP } rpc_type;

typedef struct rpc_val rpc_val;

typedef struct {
    const char *key;        /* NUL-terminated; klen bytes (may hold NULs) */
    size_t klen;
    rpc_val *val;
} rpc_pair;

struct rpc_val {
    rpc_type type;
    union {
        int b;
        int64_t i;
        double f;
        struct { const char *ptr; size_t len; } s;      /* NUL-terminated copy */
        struct { rpc_val **items; size_t n, cap; } arr;
        struct { rpc_pair *items; size_t n, cap; } map;
    } u;
};

/* A bump allocator; everything of one message (or one reply) lives in one
 * arena and goes at once. An allocation failure is sticky (failed = 1): the
 * builders below then return a shared nil value, and the caller checks
 * `failed` once before using the result. Zero-initialise before use. */
typedef struct rpc_arena_block rpc_arena_block;
typedef struct {
    rpc_arena_block *head;
    int failed;
} rpc_arena;

/* n bytes aligned for any type, or NULL (and a->failed = 1). */
void *rpc_alloc(rpc_arena *a, size_t n);
/* Frees every block; the arena can be reused afterwards. */
void rpc_arena_free(rpc_arena *a);

/* Builders. Each returns a value in the arena (never NULL: on allocation
 * failure a shared nil that must not be modified). Strings are copied. */
rpc_val *rpc_nil(rpc_arena *a);
rpc_val *rpc_bool(rpc_arena *a, int b);
rpc_val *rpc_int(rpc_arena *a, int64_t i);
rpc_val *rpc_float(rpc_arena *a, double f);
rpc_val *rpc_str(rpc_arena *a, const char *s, size_t len);
rpc_val *rpc_cstr(rpc_arena *a, const char *s);
rpc_val *rpc_arr(rpc_arena *a, size_t cap_hint);
rpc_val *rpc_map(rpc_arena *a, size_t cap_hint);

/* Append to an array / add a key to a map (the key is copied; keys are not
 * checked for duplicates). No-ops after an allocation failure or on a value
 * of the wrong type (both leave a->failed set). */
void rpc_arr_push(rpc_arena *a, rpc_val *arr, rpc_val *v);
void rpc_map_put(rpc_arena *a, rpc_val *map, const char *key, rpc_val *v);

/* "nil", "boolean", "integer", "float", "string", "array", "map". */
const char *rpc_type_name(rpc_type t);

/* The value of the first entry named key in map (NULL if absent or map is
 * not a map). */
const rpc_val *rpc_map_get(const rpc_val *map, const char *key);

/* Typed fields of a params map. Each returns 0 when the field is present
 * with the right type (and in range), 1 when it is absent or nil and not
 * required (the output is left untouched), and -1 with err set ("'prefix'
 * must be a string, got integer", "'max_tokens' must be in [1, 4096]",
 * "missing 'buf'"). Integers accept floats with an exact integral value
 * (Lua numbers); strings accept msgpack str and bin; where a map is asked
 * for, an empty array is accepted as an empty map (Lua's {}), and
 * rpc_map_get() finds nothing in it. */
int rpc_field_str(const rpc_val *map, const char *key, int required, const char **s, size_t *len,
                  char *err, size_t errlen);
int rpc_field_int(const rpc_val *map, const char *key, int required, int64_t lo, int64_t hi, int64_t *out,
                  char *err, size_t errlen);
int rpc_field_of_type(const rpc_val *map, const char *key, int required, rpc_type type, const rpc_val **out,
                      char *err, size_t errlen);

/* ---- UTF-8 ------------------------------------------------------------ */

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int rpc_utf8_valid(const char *s, size_t len);

/* ---- messages --------------------------------------------------------- */

typedef enum { RPC_FRAMING_AUTO, RPC_FRAMING_MSGPACK, RPC_FRAMING_JSON } rpc_framing;

typedef enum { RPC_MSG_REQUEST, RPC_MSG_NOTIFY, RPC_MSG_RESPONSE } rpc_msg_kind;

typedef struct {
    rpc_msg_kind kind;
    int64_t id;              /* request and response: the client's id */
    const char *method;      /* request and notify; NUL-terminated */
    const rpc_val *args;     /* request and notify: the params exactly as sent (nil if none) */
    const rpc_val *params;   /* the params map (empty if none was sent); NULL when args is not
                              * [map] (msgpack) or a map (JSON): rpc_dispatch then refuses it */
    const rpc_val *error;    /* response only */
    const rpc_val *result;   /* response only */
} rpc_msg;

/* ---- reading ---------------------------------------------------------- */

typedef struct {
    /* A well-formed message; m and everything it points to are valid only
     * during the call. */
    void (*on_message)(void *ud, const rpc_msg *m);
    /* A message that could not be used. has_id: it was a request and the
     * client waits for a response with this id (send `what` as its error);
     * otherwise nobody waits (tell the client through a log notification). */
    void (*on_error)(void *ud, int has_id, int64_t id, const char *what);
} rpc_reader_cb;

typedef struct {
    uint64_t bytes;          /* bytes fed */
    uint64_t messages;       /* messages delivered through on_message */
    uint64_t malformed;      /* undecodable or wrongly shaped messages */
    uint64_t oversized;      /* messages skipped for exceeding the cap */
    uint64_t skipped_bytes;  /* bytes skipped while resynchronising */
} rpc_reader_stats;

typedef struct rpc_reader rpc_reader;

/* A reader for one stream. framing AUTO decides on the first byte that is
 * not whitespace: '[' is JSON, 0x90-0x9f/0xdc/0xdd (a msgpack array) is
 * msgpack. max_message: the cap in bytes of one message (>= 16). NULL when out
 * of memory. */
rpc_reader *rpc_reader_new(rpc_framing framing, size_t max_message);
void rpc_reader_free(rpc_reader *r);

/* The framing in use (AUTO until the first significant byte arrived). */
rpc_framing rpc_reader_framing(const rpc_reader *r);

/* Feeds the next bytes of the stream; calls cb for every complete message
 * and every problem, in stream order. Returns 0, or -1 when out of memory (the
 * bytes of the message being read are then lost and reported). */
int rpc_reader_feed(rpc_reader *r, const void *data, size_t len, const rpc_reader_cb *cb, void *ud);

void rpc_reader_get_stats(const rpc_reader *r, rpc_reader_stats *st);

/* ---- writing ---------------------------------------------------------- */

/* A growable byte buffer. Zero-initialise before use. */
typedef struct {
    char *data;
    size_t len, cap;
} rpc_buf;

/* Appends n bytes; 0 or -1 (out of memory; the buffer is unchanged). */
int rpc_buf_append(rpc_buf *b, const void *p, size_t n);
void rpc_buf_free(rpc_buf *b);

/* The Lua chunk a Neovim client runs for each notification when it asked for
 * `notify = "nvim_exec_lua"`; it receives (method, params). */
#define RPC_NVIM_NOTIFY_LUA "return require('flint.rpc').on_notify(...)"

/* Appends a response to request `id`: error (a message, or NULL) or result
 * (NULL is encoded as nil / an empty object). JSON: `[id, {"result": R}]` or
 * `[id, {"error": "..."}]` and a newline. msgpack: `[1, id, error, result]`.
 * Strings that are not valid UTF-8 are repaired (U+FFFD) for JSON. Returns 0
 * or -1 when out of memory (out unchanged). */
int rpc_write_response(rpc_buf *out, rpc_framing f, int64_t id, const char *error, const rpc_val *result);

/* Appends a server notification. JSON: `[0, {"method": M, "params": P}]`.
 * msgpack: `[2, M, [P]]`, or with nvim_exec_lua set
 * `[2, "nvim_exec_lua", [RPC_NVIM_NOTIFY_LUA, [M, P]]]`. Returns 0 or -1. */
int rpc_write_notify(rpc_buf *out, rpc_framing f, int nvim_exec_lua, const char *method, const rpc_val *params);

/* ---- dispatch --------------------------------------------------------- */

/* A method handler: reads params (a map), builds *result in arena a (NULL
 * means an empty map). Returns 0, or -1 with err set. */
typedef int (*rpc_handler)(void *ud, const rpc_val *params, rpc_arena *a, rpc_val **result, char *err,
                           size_t errlen);

typedef struct {
    const char *name;
    rpc_handler fn;
} rpc_method;

/* Runs the handler of m->method from table[0..n). Returns its status; an
 * unknown method is -1 with "unknown method 'NAME'", params of the wrong
 * shape -1 with a message saying the expected one. Handler errors are
 * prefixed with the method name ("complete: missing 'buf'"). */
int rpc_dispatch(const rpc_method *table, size_t n, const rpc_msg *m, void *ud, rpc_arena *a, rpc_val **result,
                 char *err, size_t errlen);

#endif
