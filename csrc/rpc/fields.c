/* fields.c — typed access to the fields of a params map. See rpc.h. */
#include <math.h>

#include "common/common.h"
#include "rpc/rpc.h"

/* The field, or NULL when absent or nil; sets *rc to 1 (absent, optional) or
 * -1 (absent, required) when it returns NULL. */
static const rpc_val *field(const rpc_val *map, const char *key, int required, int *rc, char *err,
                            size_t errlen) {
    const rpc_val *v = rpc_map_get(map, key);
    if (v && v->type != RPC_NIL) return v;
    *rc = required ? fl_seterr(err, errlen, "missing '%s'", key) : 1;
    return NULL;
}

static int wrong_type(const char *key, const char *want, const rpc_val *v, char *err, size_t errlen) {
    return fl_seterr(err, errlen, "'%s' must be %s, got %s", key, want, rpc_type_name(v->type));
}

int rpc_field_str(const rpc_val *map, const char *key, int required, const char **s, size_t *len,
                  char *err, size_t errlen) {
    int rc;
    const rpc_val *v = field(map, key, required, &rc, err, errlen);
    if (!v) return rc;
    if (v->type != RPC_STR) return wrong_type(key, "a string", v, err, errlen);
    *s = v->u.s.ptr;
    if (len) *len = v->u.s.len;
    return 0;
}

int rpc_field_int(const rpc_val *map, const char *key, int required, int64_t lo, int64_t hi, int64_t *out,
                  char *err, size_t errlen) {
    int rc;
    const rpc_val *v = field(map, key, required, &rc, err, errlen);
    if (!v) return rc;
    int64_t x;
    if (v->type == RPC_INT) x = v->u.i;
    else if (v->type == RPC_FLOAT && isfinite(v->u.f) && v->u.f == floor(v->u.f) && fabs(v->u.f) < 9.0e15)
        x = (int64_t)v->u.f;
    else return wrong_type(key, "an integer", v, err, errlen);
    if (x < lo || x > hi)
        return fl_seterr(err, errlen, "'%s' must be in [%lld, %lld], got %lld", key, (long long)lo, (long long)hi,
                         (long long)x);
    *out = x;
    return 0;
}

int rpc_field_of_type(const rpc_val *map, const char *key, int required, rpc_type type, const rpc_val **out,
                      char *err, size_t errlen) {
    int rc;
    const rpc_val *v = field(map, key, required, &rc, err, errlen);
    if (!v) return rc;
    if (type == RPC_MAP && v->type == RPC_ARR && !v->u.arr.n) { /* Lua's {} */
        *out = v;
        return 0;
    }
    if (v->type != type)
        return fl_seterr(err, errlen, "'%s' must be %s %s, got %s", key, type == RPC_ARR ? "an" : "a",
                         rpc_type_name(type), rpc_type_name(v->type));
    *out = v;
    return 0;
}
