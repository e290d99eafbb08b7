/* decode_json.c — one Vim channel JSON message (already framed and within
 * the cap) into an rpc_msg, with jansson. */
#include <jansson.h>
#include <string.h>

#include "common/common.h"
#include "rpc/internal.h"

static int convert(json_t *j, rpc_arena *a, int depth, rpc_val **out, char *err, size_t errlen) {
    if (depth > RPC_MAX_DEPTH) return fl_seterr(err, errlen, "nesting deeper than %d levels", RPC_MAX_DEPTH);
    switch (json_typeof(j)) {
    case JSON_NULL: *out = rpc_nil(a); return 0;
    case JSON_TRUE: *out = rpc_bool(a, 1); return 0;
    case JSON_FALSE: *out = rpc_bool(a, 0); return 0;
    case JSON_INTEGER: *out = rpc_int(a, (int64_t)json_integer_value(j)); return 0;
    case JSON_REAL: *out = rpc_float(a, json_real_value(j)); return 0;
    case JSON_STRING: *out = rpc_str(a, json_string_value(j), json_string_length(j)); return 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        rpc_val *v = rpc_arr(a, n);
        for (size_t i = 0; i < n; i++) {
            rpc_val *item;
            if (convert(json_array_get(j, i), a, depth + 1, &item, err, errlen)) return -1;
            rpc_arr_push(a, v, item);
        }
        *out = v;
        return 0;
    }
    case JSON_OBJECT: {
        rpc_val *v = rpc_map(a, json_object_size(j));
        const char *key;
        json_t *val;
        json_object_foreach(j, key, val) {
            if (strlen(key) > 255) return fl_seterr(err, errlen, "object key longer than 255 bytes");
            rpc_val *item;
            if (convert(val, a, depth + 1, &item, err, errlen)) return -1;
            rpc_map_put(a, v, key, item);
        }
        *out = v;
        return 0;
    }
    }
    return fl_seterr(err, errlen, "unknown JSON type");
}

/* The payload {"method": M, "params": P?}; m->params stays NULL when P is
 * not an object (the dispatcher refuses it). */
static int payload(const rpc_val *p, rpc_arena *a, rpc_msg *m, char *err, size_t errlen) {
    if (p->type != RPC_MAP)
        return fl_seterr(err, errlen, "the payload must be an object {\"method\": ..., \"params\": {...}}, got %s",
                         rpc_type_name(p->type));
    const char *method;
    if (rpc_field_str(p, "method", 1, &method, NULL, err, errlen)) return -1;
    const rpc_val *args = rpc_map_get(p, "params");
    m->method = method;
    m->args = args ? args : rpc_nil(a);
    m->params = !args || args->type == RPC_NIL ? rpc_map(a, 0) : args->type == RPC_MAP ? args : NULL;
    return a->failed ? fl_seterr(err, errlen, "out of memory") : 0;
}

int rpc_decode_json(const char *buf, size_t n, rpc_arena *a, rpc_msg *m, int *has_id, int64_t *id, char *err,
                    size_t errlen) {
    *has_id = 0;
    json_error_t je;
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j) return fl_seterr(err, errlen, "malformed JSON: %s at line %d column %d", je.text, je.line, je.column);
    rpc_val *v = NULL;
    int rc = convert(j, a, 0, &v, err, errlen);
    json_decref(j);
    if (rc) return -1;
    if (a->failed) return fl_seterr(err, errlen, "out of memory");
    if (v->type != RPC_ARR || v->u.arr.n != 2 || v->u.arr.items[0]->type != RPC_INT)
        return fl_seterr(err, errlen, "a Vim channel message must be [id, {\"method\": ..., \"params\": {...}}]");
    int64_t mid = v->u.arr.items[0]->u.i;
    if (mid < 0) return fl_seterr(err, errlen, "message id must not be negative");
    memset(m, 0, sizeof *m);
    m->kind = mid ? RPC_MSG_REQUEST : RPC_MSG_NOTIFY;
    m->id = mid;
    if (mid) {
        *has_id = 1;
        *id = mid;
    }
    return payload(v->u.arr.items[1], a, m, err, errlen);
}
