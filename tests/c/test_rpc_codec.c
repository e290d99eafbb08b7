/* test_rpc_codec.c — values, typed fields, UTF-8 helpers, encoders and the
 * dispatch table. */
#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <string.h>

#include "rpc/rpc.h"
#include "tap.h"

static void test_fields(void) {
    rpc_arena a = {0};
    rpc_val *m = rpc_map(&a, 0);
    rpc_map_put(&a, m, "s", rpc_cstr(&a, "hi"));
    rpc_map_put(&a, m, "i", rpc_int(&a, 42));
    rpc_map_put(&a, m, "f", rpc_float(&a, 3.0));
    rpc_map_put(&a, m, "g", rpc_float(&a, 3.5));
    rpc_map_put(&a, m, "b", rpc_bool(&a, 1));
    rpc_map_put(&a, m, "n", rpc_nil(&a));
    rpc_map_put(&a, m, "arr", rpc_arr(&a, 0));
    CHECK(!a.failed, "arena: building a map works");
    char err[200];
    const char *s = NULL;
    size_t len = 0;
    int64_t i = 0;
    CHECK(rpc_field_str(m, "s", 1, &s, &len, err, sizeof err) == 0 && len == 2 && !strcmp(s, "hi"), "field: string");
    CHECK(rpc_field_str(m, "i", 1, &s, &len, err, sizeof err) == -1 && !strcmp(err, "'i' must be a string, got integer"),
          "field: wrong type names both types (%s)", err);
    CHECK(rpc_field_str(m, "zz", 0, &s, &len, err, sizeof err) == 1, "field: absent optional is 1");
    CHECK(rpc_field_str(m, "n", 0, &s, &len, err, sizeof err) == 1, "field: nil counts as absent");
    CHECK(rpc_field_str(m, "zz", 1, &s, &len, err, sizeof err) == -1 && !strcmp(err, "missing 'zz'"), "field: missing required");
    CHECK(rpc_field_int(m, "i", 1, 0, 100, &i, err, sizeof err) == 0 && i == 42, "field: integer");
    CHECK(rpc_field_int(m, "f", 1, 0, 100, &i, err, sizeof err) == 0 && i == 3, "field: integral float accepted as integer");
    CHECK(rpc_field_int(m, "g", 1, 0, 100, &i, err, sizeof err) == -1, "field: 3.5 is not an integer");
    CHECK(rpc_field_int(m, "i", 1, 0, 10, &i, err, sizeof err) == -1 && strstr(err, "[0, 10]"), "field: range checked (%s)", err);
    const rpc_val *v = NULL;
    CHECK(rpc_field_of_type(m, "arr", 1, RPC_ARR, &v, err, sizeof err) == 0 && v && v->type == RPC_ARR, "field: array");
    CHECK(rpc_field_of_type(m, "s", 1, RPC_MAP, &v, err, sizeof err) == -1 && !strcmp(err, "'s' must be a map, got string"),
          "field: map expected (%s)", err);
    CHECK(rpc_map_get(rpc_int(&a, 1), "x") == NULL, "map_get on a non-map is NULL");
    rpc_map_put(&a, m, "empty", rpc_arr(&a, 0));
    CHECK(rpc_field_of_type(m, "empty", 1, RPC_MAP, &v, err, sizeof err) == 0 && rpc_map_get(v, "x") == NULL,
          "field: an empty array stands for an empty map (Lua's {})");
    rpc_arena_free(&a);
}

static void test_utf8(void) {
    CHECK(rpc_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), "utf8: valid 1-4 byte sequences");
    CHECK(!rpc_utf8_valid("\xc0\xaf", 2), "utf8: overlong rejected");
    CHECK(!rpc_utf8_valid("\xed\xa0\x80", 3), "utf8: surrogate rejected");
    CHECK(!rpc_utf8_valid("\xf4\x90\x80\x80", 4), "utf8: above U+10FFFF rejected");
    CHECK(!rpc_utf8_valid("\xe2\x82", 2), "utf8: truncated rejected");
}


static void test_encode_msgpack(void) {
    rpc_arena a = {0};
    rpc_val *p = rpc_map(&a, 2);
    rpc_map_put(&a, p, "id", rpc_int(&a, 7));
    rpc_map_put(&a, p, "text", rpc_cstr(&a, "x = 1"));
    rpc_buf out = {0};
    CHECK(rpc_write_response(&out, RPC_FRAMING_MSGPACK, 3, NULL, p) == 0, "msgpack: response encodes");
    CHECK(rpc_write_response(&out, RPC_FRAMING_MSGPACK, 4, "boom", NULL) == 0, "msgpack: error response encodes");
    CHECK(rpc_write_notify(&out, RPC_FRAMING_MSGPACK, 0, "chunk", p) == 0, "msgpack: notification encodes");
    CHECK(rpc_write_notify(&out, RPC_FRAMING_MSGPACK, 1, "log", p) == 0, "msgpack: nvim_exec_lua notification encodes");
    char text[4][200];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    for (int k = 0; k < 4; k++) {
        text[k][0] = 0;
        if (msgpack_unpack_next(&up, out.data, out.len, &off) == MSGPACK_UNPACK_SUCCESS)
            msgpack_object_print_buffer(text[k], sizeof text[k], up.data);
    }
    msgpack_unpacked_destroy(&up);
    CHECK(!strcmp(text[0], "[1, 3, nil, {\"id\"=>7, \"text\"=>\"x = 1\"}]"), "msgpack: [1, id, nil, result] (%s)", text[0]);
    CHECK(!strcmp(text[1], "[1, 4, \"boom\", nil]"), "msgpack: [1, id, error, nil] (%s)", text[1]);
    CHECK(!strcmp(text[2], "[2, \"chunk\", [{\"id\"=>7, \"text\"=>\"x = 1\"}]]"), "msgpack: [2, method, [params]] (%s)", text[2]);
    CHECK(!strcmp(text[3], "[2, \"nvim_exec_lua\", [\"return require('flint.rpc').on_notify(...)\", [\"log\", {\"id\"=>7, \"text\"=>\"x = 1\"}]]]"),
          "msgpack: nvim_exec_lua wrapper (%s)", text[3]);
    CHECK(off == out.len, "msgpack: nothing else was written");
    rpc_buf_free(&out);
    rpc_arena_free(&a);
}

static void test_encode_json(void) {
    rpc_arena a = {0};
    rpc_val *p = rpc_map(&a, 0);
    rpc_map_put(&a, p, "text", rpc_str(&a, "ok\xff\xe2\x82", 5));
    rpc_map_put(&a, p, "nan", rpc_float(&a, NAN));
    rpc_val *arr = rpc_arr(&a, 0);
    rpc_arr_push(&a, arr, rpc_bool(&a, 0));
    rpc_arr_push(&a, arr, rpc_int(&a, -5));
    rpc_map_put(&a, p, "list", arr);
    rpc_buf out = {0};
    CHECK(rpc_write_response(&out, RPC_FRAMING_JSON, 3, NULL, p) == 0, "json: response encodes");
    CHECK(rpc_write_response(&out, RPC_FRAMING_JSON, 4, "bad \xc0 thing", NULL) == 0, "json: error response encodes");
    CHECK(rpc_write_notify(&out, RPC_FRAMING_JSON, 1, "chunk", NULL) == 0, "json: notification encodes (wrapper ignored)");
    CHECK(rpc_write_response(&out, RPC_FRAMING_JSON, 5, NULL, NULL) == 0, "json: empty result encodes");
    rpc_buf_append(&out, "", 1);
    const char *want = "[3,{\"result\":{\"text\":\"ok\xef\xbf\xbd\xef\xbf\xbd\",\"nan\":null,\"list\":[false,-5]}}]\n"
                       "[4,{\"error\":\"bad \xef\xbf\xbd thing\"}]\n"
                       "[0,{\"method\":\"chunk\",\"params\":{}}]\n"
                       "[5,{\"result\":{}}]\n";
    if (!CHECK(!strcmp(out.data, want), "json: exact bytes, ill-formed UTF-8 repaired, NaN as null")) NOTE("got %s", out.data);
    rpc_buf_free(&out);
    rpc_arena_free(&a);
}

static int h_echo(void *ud, const rpc_val *params, rpc_arena *a, rpc_val **result, char *err, size_t errlen) {
    int64_t x;
    if (rpc_field_int(params, "x", 1, 0, 10, &x, err, errlen)) return -1;
    *result = rpc_int(a, x + *(int *)ud);
    return 0;
}

static void test_dispatch(void) {
    static const rpc_method table[] = {{"echo", h_echo}};
    int add = 100;
    rpc_arena a = {0};
    rpc_val *params = rpc_map(&a, 0);
    rpc_map_put(&a, params, "x", rpc_int(&a, 5));
    rpc_msg m = {.kind = RPC_MSG_REQUEST, .id = 1, .method = "echo", .params = params};
    rpc_val *res;
    char err[200];
    CHECK(rpc_dispatch(table, 1, &m, &add, &a, &res, err, sizeof err) == 0 && res->type == RPC_INT && res->u.i == 105,
          "dispatch: handler runs with params and user data");
    rpc_map_put(&a, params, "y", rpc_int(&a, 1));
    params->u.map.items[0].val = rpc_cstr(&a, "five");
    CHECK(rpc_dispatch(table, 1, &m, &add, &a, &res, err, sizeof err) == -1 && !strcmp(err, "echo: 'x' must be an integer, got string"),
          "dispatch: handler error prefixed with the method (%s)", err);
    m.params = NULL;
    m.args = rpc_int(&a, 3);
    CHECK(rpc_dispatch(table, 1, &m, &add, &a, &res, err, sizeof err) == -1 && !strcmp(err, "echo: params must be an object"),
          "dispatch: params of the wrong shape refused (%s)", err);
    m.method = "nope";
    CHECK(rpc_dispatch(table, 1, &m, &add, &a, &res, err, sizeof err) == -1 && !strcmp(err, "unknown method 'nope'"),
          "dispatch: unknown method (%s)", err);
    rpc_arena_free(&a);

}

int main(void) {
    test_fields();
    test_utf8();
    test_encode_msgpack();
    test_encode_json();
    test_dispatch();
    return tap_done();
}
