/* encode.c — responses and notifications in either framing. See rpc.h. */
#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <string.h>

#include "rpc/internal.h"

/* ---- msgpack ---------------------------------------------------------- */

typedef struct {
    rpc_buf *out;
    int failed;
} mp_sink;

static int mp_write(void *data, const char *buf, size_t len) {
    mp_sink *s = data;
    if (!s->failed && rpc_buf_append(s->out, buf, len)) s->failed = 1;
    return s->failed ? -1 : 0;
}

static void mp_str(msgpack_packer *pk, const char *s, size_t len) {
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void mp_val(msgpack_packer *pk, const rpc_val *v) {
    switch (v->type) {
    case RPC_NIL: msgpack_pack_nil(pk); break;
    case RPC_BOOL: if (v->u.b) msgpack_pack_true(pk); else msgpack_pack_false(pk); break;
    case RPC_INT: msgpack_pack_int64(pk, v->u.i); break;
    case RPC_FLOAT: msgpack_pack_double(pk, v->u.f); break;
    case RPC_STR: mp_str(pk, v->u.s.ptr, v->u.s.len); break;
    case RPC_ARR:
        msgpack_pack_array(pk, v->u.arr.n);
        for (size_t i = 0; i < v->u.arr.n; i++) mp_val(pk, v->u.arr.items[i]);
        break;
    case RPC_MAP:
        msgpack_pack_map(pk, v->u.map.n);
        for (size_t i = 0; i < v->u.map.n; i++) {
            mp_str(pk, v->u.map.items[i].key, v->u.map.items[i].klen);
            mp_val(pk, v->u.map.items[i].val);
        }
        break;
    }
}

static void mp_val_or_empty_map(msgpack_packer *pk, const rpc_val *v) {
    if (v) mp_val(pk, v);
    else msgpack_pack_map(pk, 0);
}

/* ---- JSON ------------------------------------------------------------- */

/* A JSON string of s; repairs ill-formed UTF-8. NULL when out of memory. */
static json_t *js_str(const char *s, size_t len) {
    if (rpc_utf8_valid(s, len)) return json_stringn(s, len);
    json_t *j = NULL;
    rpc_buf fixed = {0};
    if (!rpc_utf8_repair(&fixed, s, len)) j = json_stringn(fixed.data ? fixed.data : "", fixed.len);
    rpc_buf_free(&fixed);
    return j;
}

static json_t *js_val(const rpc_val *v) {
    switch (v->type) {
    case RPC_NIL: return json_null();
    case RPC_BOOL: return json_boolean(v->u.b);
    case RPC_INT: return json_integer((json_int_t)v->u.i);
    case RPC_FLOAT: return isfinite(v->u.f) ? json_real(v->u.f) : json_null();
    case RPC_STR: return js_str(v->u.s.ptr, v->u.s.len);
    case RPC_ARR: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->u.arr.n; i++)
            if (json_array_append_new(a, js_val(v->u.arr.items[i]))) { json_decref(a); a = NULL; }
        return a;
    }
    case RPC_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; o && i < v->u.map.n; i++) {
            const rpc_pair *p = &v->u.map.items[i];
            json_t *item = js_val(p->val); /* setn_new takes it, also on failure */
            if (!item || json_object_setn_new(o, p->key, p->klen, item)) { json_decref(o); o = NULL; }
        }
        return o;
    }
    }
    return NULL;
}

static int js_sink(const char *buf, size_t len, void *data) { return rpc_buf_append(data, buf, len); }

/* Appends `[id, payload]` and a newline; takes payload (which may be NULL
 * after an allocation failure). 0 or -1 (out unchanged). */
static int js_frame(rpc_buf *out, int64_t id, json_t *payload) {
    if (!payload) return -1;
    json_t *msg = json_pack("[I, o]", (json_int_t)id, payload);
    if (!msg) return -1;
    size_t len0 = out->len;
    int rc = json_dump_callback(msg, js_sink, out, JSON_COMPACT) || rpc_buf_append(out, "\n", 1) ? -1 : 0;
    json_decref(msg);
    if (rc) out->len = len0;
    return rc;
}

/* {key: val}, taking val; NULL when either is NULL. */
static json_t *js_obj1(const char *key, json_t *val) {
    json_t *o = val ? json_object() : NULL;
    if (o && json_object_set_new(o, key, val)) { json_decref(o); o = NULL; }
    else if (!o) json_decref(val);
    return o;
}

/* ---- public ----------------------------------------------------------- */

int rpc_write_response(rpc_buf *out, rpc_framing f, int64_t id, const char *error, const rpc_val *result) {
    if (f == RPC_FRAMING_JSON)
        return js_frame(out, id, error ? js_obj1("error", js_str(error, strlen(error)))
                                       : js_obj1("result", result ? js_val(result) : json_object()));
    size_t len0 = out->len;
    mp_sink sink = {out, 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, mp_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_uint32(&pk, (uint32_t)id);
    if (error) {
        mp_str(&pk, error, strlen(error));
        msgpack_pack_nil(&pk);
    } else {
        msgpack_pack_nil(&pk);
        mp_val_or_empty_map(&pk, result);
    }
    if (sink.failed) out->len = len0;
    return sink.failed ? -1 : 0;
}

int rpc_write_notify(rpc_buf *out, rpc_framing f, int nvim_exec_lua, const char *method, const rpc_val *params) {
    if (f == RPC_FRAMING_JSON) {
        json_t *p = params ? js_val(params) : json_object();
        return js_frame(out, 0, p ? json_pack("{s: o, s: o}", "method", js_str(method, strlen(method)), "params", p) : NULL);
    }
    size_t len0 = out->len;
    mp_sink sink = {out, 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, mp_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 2);
    if (nvim_exec_lua) {
        mp_str(&pk, "nvim_exec_lua", 13);
        msgpack_pack_array(&pk, 2);
        mp_str(&pk, RPC_NVIM_NOTIFY_LUA, strlen(RPC_NVIM_NOTIFY_LUA));
        msgpack_pack_array(&pk, 2);
        mp_str(&pk, method, strlen(method));
    } else {
        mp_str(&pk, method, strlen(method));
        msgpack_pack_array(&pk, 1);
    }
    mp_val_or_empty_map(&pk, params);
    if (sink.failed) out->len = len0;
    return sink.failed ? -1 : 0;
}
