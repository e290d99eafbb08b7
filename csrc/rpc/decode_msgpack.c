/* decode_msgpack.c — one msgpack-RPC message (already framed and within the
 * cap) into an rpc_msg, with msgpack-c. */
#include <msgpack.h>
#include <string.h>

#include "common/common.h"
#include "rpc/internal.h"

/* Converts o into *out; -1 with err set on unsupported input. */
static int convert(const msgpack_object *o, rpc_arena *a, int depth, rpc_val **out, char *err, size_t errlen) {
    if (depth > RPC_MAX_DEPTH) return fl_seterr(err, errlen, "nesting deeper than %d levels", RPC_MAX_DEPTH);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: *out = rpc_nil(a); return 0;
    case MSGPACK_OBJECT_BOOLEAN: *out = rpc_bool(a, o->via.boolean); return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = o->via.u64 > INT64_MAX ? rpc_float(a, (double)o->via.u64) : rpc_int(a, (int64_t)o->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = rpc_int(a, o->via.i64); return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = rpc_float(a, o->via.f64); return 0;
    case MSGPACK_OBJECT_STR: *out = rpc_str(a, o->via.str.ptr, o->via.str.size); return 0;
    case MSGPACK_OBJECT_BIN: *out = rpc_str(a, o->via.bin.ptr, o->via.bin.size); return 0;
    case MSGPACK_OBJECT_ARRAY: {
        rpc_val *v = rpc_arr(a, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            rpc_val *item;
            if (convert(&o->via.array.ptr[i], a, depth + 1, &item, err, errlen)) return -1;
            rpc_arr_push(a, v, item);
        }
        *out = v;
        return 0;
    }
    case MSGPACK_OBJECT_MAP: {
        rpc_val *v = rpc_map(a, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            const char *kp;
            uint32_t ks;
            if (kv->key.type == MSGPACK_OBJECT_STR) kp = kv->key.via.str.ptr, ks = kv->key.via.str.size;
            else if (kv->key.type == MSGPACK_OBJECT_BIN) kp = kv->key.via.bin.ptr, ks = kv->key.via.bin.size;
            else return fl_seterr(err, errlen, "map keys must be strings");
            char key[256];
            if (ks >= sizeof key) return fl_seterr(err, errlen, "map key longer than %zu bytes", sizeof key - 1);
            if (ks && memchr(kp, 0, ks)) return fl_seterr(err, errlen, "map key contains a NUL byte");
            if (ks) memcpy(key, kp, ks);
            key[ks] = 0;
            rpc_val *item;
            if (convert(&kv->val, a, depth + 1, &item, err, errlen)) return -1;
            rpc_map_put(a, v, key, item);
        }
        *out = v;
        return 0;
    }
    case MSGPACK_OBJECT_EXT: return fl_seterr(err, errlen, "msgpack ext values are not supported");
    }
    return fl_seterr(err, errlen, "unknown msgpack type");
}

/* params of a request/notification: [] or [nil] or [[]] (an empty map: Lua
 * sends an empty table as an empty array) or [map]; anything else leaves
 * m->params NULL for the dispatcher to refuse. */
static void params_of(const rpc_val *v, rpc_arena *a, rpc_msg *m) {
    m->args = v;
    m->params = NULL;
    if (v->type != RPC_ARR || v->u.arr.n > 1) return;
    const rpc_val *p = v->u.arr.n ? v->u.arr.items[0] : NULL;
    if (!p || p->type == RPC_NIL || (p->type == RPC_ARR && !p->u.arr.n)) m->params = rpc_map(a, 0);
    else if (p->type == RPC_MAP) m->params = p;
}

int rpc_decode_msgpack(const char *buf, size_t n, rpc_arena *a, rpc_msg *m, int *has_id, int64_t *id, char *err,
                       size_t errlen) {
    *has_id = 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    rpc_val *v = NULL;
    int rc = -1;
    msgpack_unpack_return ur = msgpack_unpack_next(&up, buf, n, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR) fl_seterr(err, errlen, "message nested deeper than %d levels, or out of memory", RPC_MAX_DEPTH);
    else if (ur != MSGPACK_UNPACK_SUCCESS || off != n) fl_seterr(err, errlen, "malformed msgpack");
    else if (!convert(&up.data, a, 0, &v, err, errlen)) rc = 0;
    msgpack_unpacked_destroy(&up);
    if (rc) return -1;
    if (a->failed) return fl_seterr(err, errlen, "out of memory");
    if (v->type != RPC_ARR) return fl_seterr(err, errlen, "a msgpack-RPC message must be an array, got %s", rpc_type_name(v->type));
    size_t len = v->u.arr.n;
    rpc_val **it = v->u.arr.items;
    if (len < 3 || len > 4 || it[0]->type != RPC_INT)
        return fl_seterr(err, errlen, "a msgpack-RPC message must be [0, id, method, params], [1, id, error, result] or [2, method, params]");
    int64_t type = it[0]->u.i;
    memset(m, 0, sizeof *m);
    if ((type == 0 || type == 1) && len == 4) {
        if (it[1]->type != RPC_INT || it[1]->u.i < 0 || it[1]->u.i > UINT32_MAX)
            return fl_seterr(err, errlen, "msgid must be an unsigned 32-bit integer");
        m->id = it[1]->u.i;
        if (type == 1) {
            m->kind = RPC_MSG_RESPONSE;
            m->error = it[2];
            m->result = it[3];
            return 0;
        }
        *has_id = 1;
        *id = m->id;
        m->kind = RPC_MSG_REQUEST;
        it++; /* method and params follow, as in a notification */
    } else if (type == 2 && len == 3) m->kind = RPC_MSG_NOTIFY;
    else return fl_seterr(err, errlen, "unknown msgpack-RPC message type %lld with %zu elements", (long long)type, len);
    if (it[1]->type != RPC_STR) return fl_seterr(err, errlen, "method must be a string, got %s", rpc_type_name(it[1]->type));
    m->method = it[1]->u.s.ptr;
    params_of(it[2], a, m);
    return a->failed ? fl_seterr(err, errlen, "out of memory") : 0;
}
