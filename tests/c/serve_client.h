/* serve_client.h — a real client for `flint serve`, for the tests and the
 * benchmark: spawns the binary with pipes and speaks msgpack-RPC (msgpack-c)
 * or Vim's JSON channel protocol (jansson). Every message received is
 * turned into a jansson value so checks read the same for both framings.
 * Header-only; every function is static inline. */
#ifndef FLINT_SERVE_CLIENT_H
#define FLINT_SERVE_CLIENT_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <msgpack.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int to, from;            /* our ends of the server's stdin / stdout */
    int json;                /* 1: Vim JSON channel, 0: msgpack-RPC */
    msgpack_unpacker up;
    char *jbuf;              /* JSON bytes received, not yet parsed */
    size_t jlen, jcap;
    int eof;
} sc_client;

/* One received message. kind 'r': a response (id, error or result);
 * 'n': a notification (method, params), unwrapped from nvim_exec_lua. */
typedef struct {
    int kind;
    long long id;
    json_t *error, *result;
    const char *method;
    json_t *params;
    json_t *raw;             /* owns everything above */
} sc_msg;

/* The string value of v, "" when v is not a string. */
static inline const char *sc_str(json_t *v) {
    const char *s = json_string_value(v);
    return s ? s : "";
}

static inline double sc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts `$FLINT_BIN serve ARGS...` (args NULL-terminated). 0 or -1. */
static inline int sc_start(sc_client *c, int json, const char *const *args) {
    memset(c, 0, sizeof *c);
    c->json = json;
    const char *bin = getenv("FLINT_BIN");
    if (!bin) bin = "build/flint";
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return -1;
    signal(SIGPIPE, SIG_IGN);
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        const char *argv[64] = {bin, "serve"};
        int n = 2;
        for (int i = 0; args && args[i] && n < 63; i++) argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = in[1];
    c->from = out[0];
    msgpack_unpacker_init(&c->up, 1 << 16);
    return 0;
}

static inline int sc_send_raw(sc_client *c, const void *p, size_t n) {
    const char *b = p;
    while (n) {
        ssize_t k = write(c->to, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static inline void sc_pack_json(msgpack_packer *pk, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_NULL: msgpack_pack_nil(pk); break;
    case JSON_TRUE: msgpack_pack_true(pk); break;
    case JSON_FALSE: msgpack_pack_false(pk); break;
    case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(v)); break;
    case JSON_REAL: msgpack_pack_double(pk, json_real_value(v)); break;
    case JSON_STRING:
        msgpack_pack_str(pk, json_string_length(v));
        msgpack_pack_str_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++) sc_pack_json(pk, json_array_get(v, i));
        break;
    case JSON_OBJECT: {
        msgpack_pack_map(pk, json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            msgpack_pack_str(pk, strlen(k));
            msgpack_pack_str_body(pk, k, strlen(k));
            sc_pack_json(pk, x);
        }
        break;
    }
    }
}

/* Sends a request (id > 0) or a notification (id 0). Takes params. */
static inline int sc_send(sc_client *c, long long id, const char *method, json_t *params) {
    if (!params) params = json_object();
    int rc;
    if (c->json) {
        json_t *m = json_pack("[I, {s: s, s: o}]", (json_int_t)id, "method", method, "params", params);
        char *s = json_dumps(m, JSON_COMPACT);
        rc = sc_send_raw(c, s, strlen(s)) || sc_send_raw(c, "\n", 1);
        free(s);
        json_decref(m);
        return rc;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, id ? 4 : 3);
    msgpack_pack_int(&pk, id ? 0 : 2);
    if (id) msgpack_pack_int64(&pk, id);
    msgpack_pack_str(&pk, strlen(method));
    msgpack_pack_str_body(&pk, method, strlen(method));
    msgpack_pack_array(&pk, 1);
    sc_pack_json(&pk, params);
    rc = sc_send_raw(c, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    json_decref(params);
    return rc;
}

static inline json_t *sc_from_msgpack(const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer(o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR: return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: return json_stringn(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++) json_array_append_new(a, sc_from_msgpack(&o->via.array.ptr[i]));
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR) continue;
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)k->via.str.size, k->via.str.ptr);
            json_object_set_new(m, key, sc_from_msgpack(&o->via.map.ptr[i].val));
        }
        return m;
    }
    default: return json_null();
    }
}

/* Fills m from a raw message; 0, or -1 if its shape is not a server's. */
static inline int sc_classify(sc_client *c, json_t *raw, sc_msg *m) {
    memset(m, 0, sizeof *m);
    m->raw = raw;
    if (!json_is_array(raw)) return -1;
    if (c->json) {
        json_t *p = json_array_get(raw, 1);
        m->id = json_integer_value(json_array_get(raw, 0));
        if (m->id) {
            m->kind = 'r';
            m->error = json_object_get(p, "error");
            m->result = json_object_get(p, "result");
        } else {
            m->kind = 'n';
            m->method = json_string_value(json_object_get(p, "method"));
            m->params = json_object_get(p, "params");
        }
        return 0;
    }
    long long type = json_integer_value(json_array_get(raw, 0));
    if (type == 1) {
        m->kind = 'r';
        m->id = json_integer_value(json_array_get(raw, 1));
        m->error = json_array_get(raw, 2);
        m->result = json_array_get(raw, 3);
        if (json_is_null(m->error)) m->error = NULL;
        return 0;
    }
    if (type != 2) return -1;
    m->kind = 'n';
    m->method = json_string_value(json_array_get(raw, 1));
    json_t *args = json_array_get(raw, 2);
    if (m->method && !strcmp(m->method, "nvim_exec_lua")) { /* [code, [method, params]] */
        json_t *inner = json_array_get(args, 1);
        m->method = json_string_value(json_array_get(inner, 0));
        m->params = json_array_get(inner, 1);
    } else m->params = json_array_get(args, 0);
    return 0;
}

/* The next message within timeout_ms: 1 (m filled; sc_msg_free it), 0 on
 * timeout, -1 at EOF. */
static inline int sc_next(sc_client *c, sc_msg *m, int timeout_ms) {
    double deadline = sc_now_ms() + timeout_ms;
    for (;;) {
        if (c->json) {
            char *nl = c->jlen ? memchr(c->jbuf, '\n', c->jlen) : NULL;
            if (nl) {
                size_t n = (size_t)(nl - c->jbuf) + 1;
                json_t *raw = json_loadb(c->jbuf, n, 0, NULL);
                memmove(c->jbuf, c->jbuf + n, c->jlen - n);
                c->jlen -= n;
                if (raw && !sc_classify(c, raw, m)) return 1;
                json_decref(raw);
                fprintf(stderr, "serve_client: bad JSON line from the server\n");
                return -1;
            }
        } else {
            msgpack_unpacked up;
            msgpack_unpacked_init(&up);
            int rc = msgpack_unpacker_next(&c->up, &up);
            if (rc == MSGPACK_UNPACK_SUCCESS) {
                json_t *raw = sc_from_msgpack(&up.data);
                msgpack_unpacked_destroy(&up);
                if (!sc_classify(c, raw, m)) return 1;
                json_decref(raw);
                return -1;
            }
            msgpack_unpacked_destroy(&up);
            if (rc < 0) return -1;
        }
        if (c->eof) return -1;
        int left = (int)(deadline - sc_now_ms());
        if (left < 0) return 0;
        struct pollfd pfd = {c->from, POLLIN, 0};
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) return 0;
        char buf[65536];
        ssize_t n = read(c->from, buf, sizeof buf);
        if (n <= 0) {
            c->eof = 1;
            continue;
        }
        if (c->json) {
            if (c->jlen + (size_t)n > c->jcap) {
                c->jcap = (c->jlen + (size_t)n) * 2;
                c->jbuf = realloc(c->jbuf, c->jcap);
            }
            memcpy(c->jbuf + c->jlen, buf, (size_t)n);
            c->jlen += (size_t)n;
        } else {
            msgpack_unpacker_reserve_buffer(&c->up, (size_t)n);
            memcpy(msgpack_unpacker_buffer(&c->up), buf, (size_t)n);
            msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
        }
    }
}

static inline void sc_msg_free(sc_msg *m) {
    json_decref(m->raw);
    memset(m, 0, sizeof *m);
}

/* Waits for the response to id; notifications that arrive first are
 * appended (as their params, with "method" added) to notes when given.
 * Returns the response's raw message (result/error via sc_classify) in m:
 * 1, or 0 on timeout / EOF. */
static inline int sc_wait_response(sc_client *c, long long id, sc_msg *m, json_t *notes, int timeout_ms) {
    double deadline = sc_now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - sc_now_ms());
        if (left < 0) return 0;
        int rc = sc_next(c, m, left);
        if (rc <= 0) return 0;
        if (m->kind == 'r' && m->id == id) return 1;
        if (m->kind == 'n' && notes && m->params) {
            json_t *p = json_deep_copy(m->params);
            json_object_set_new(p, "method", json_string(m->method ? m->method : ""));
            json_array_append_new(notes, p);
        }
        sc_msg_free(m);
    }
}

/* Request + response: the result (new reference) or NULL; *error gets the
 * error text (new reference) when the server answered with one. */
static inline json_t *sc_call(sc_client *c, long long id, const char *method, json_t *params, json_t **error,
                              json_t *notes, int timeout_ms) {
    if (error) *error = NULL;
    if (sc_send(c, id, method, params)) return NULL;
    sc_msg m;
    if (!sc_wait_response(c, id, &m, notes, timeout_ms)) return NULL;
    json_t *r = NULL;
    if (m.error && !json_is_null(m.error)) {
        if (error) *error = json_incref(m.error);
    } else r = json_incref(m.result ? m.result : json_null());
    sc_msg_free(&m);
    return r;
}

/* Reads until every alt of job id has its final chunk; appends chunk params
 * to chunks (and other notifications to it too, marked by "method"). Final
 * chunks already in chunks count. Returns the number of final chunks of id. */
static inline int sc_collect(sc_client *c, long long id, int n_alt, json_t *chunks, int timeout_ms) {
    double deadline = sc_now_ms() + timeout_ms;
    int finals = 0;
    size_t k;
    json_t *q;
    json_array_foreach(chunks, k, q)
        finals += !strcmp(sc_str(json_object_get(q, "method")), "chunk") && json_integer_value(json_object_get(q, "id")) == id &&
                  json_is_true(json_object_get(q, "done"));
    while (finals < n_alt) {
        int left = (int)(deadline - sc_now_ms());
        sc_msg m;
        if (left < 0 || sc_next(c, &m, left) <= 0) break;
        if (m.kind == 'n' && m.params) {
            json_t *p = json_deep_copy(m.params);
            json_object_set_new(p, "method", json_string(m.method ? m.method : ""));
            json_array_append_new(chunks, p);
            if (m.method && !strcmp(m.method, "chunk") && json_integer_value(json_object_get(m.params, "id")) == id &&
                json_is_true(json_object_get(m.params, "done")))
                finals++;
        }
        sc_msg_free(&m);
    }
    return finals;
}

/* The concatenated text of (id, alt) in chunks, in a static buffer. */
static inline const char *sc_text(json_t *chunks, long long id, int alt) {
    static char buf[1 << 16];
    size_t n = 0;
    buf[0] = 0;
    size_t i;
    json_t *p;
    json_array_foreach(chunks, i, p) {
        if (json_integer_value(json_object_get(p, "id")) != id || json_integer_value(json_object_get(p, "alt")) != alt)
            continue;
        const char *t = json_string_value(json_object_get(p, "text"));
        size_t k = t ? strlen(t) : 0;
        if (n + k < sizeof buf) {
            memcpy(buf + n, t, k);
            n += k;
            buf[n] = 0;
        }
    }
    return buf;
}

/* The final chunk of (id, alt) in chunks (borrowed), or NULL. */
static inline json_t *sc_final(json_t *chunks, long long id, int alt) {
    size_t i;
    json_t *p;
    json_array_foreach(chunks, i, p)
        if (json_integer_value(json_object_get(p, "id")) == id && json_integer_value(json_object_get(p, "alt")) == alt &&
            json_is_true(json_object_get(p, "done")))
            return p;
    return NULL;
}

/* Closes our end of stdin and waits for the exit status (-1: killed after
 * timeout_ms). */
static inline int sc_finish(sc_client *c, int timeout_ms) {
    if (c->to >= 0) close(c->to);
    c->to = -1;
    int status = 0;
    double deadline = sc_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid) break;
        if (sc_now_ms() > deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            status = -1;
            break;
        }
        char buf[4096];
        struct pollfd pfd = {c->from, POLLIN, 0};
        if (poll(&pfd, 1, 10) > 0 && read(c->from, buf, sizeof buf) <= 0) usleep(1000);
    }
    close(c->from);
    msgpack_unpacker_destroy(&c->up);
    free(c->jbuf);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The server's resident memory in KiB (from /proc), or -1. */
static inline long sc_rss_kib(const sc_client *c) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)c->pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = atol(line + 6);
    fclose(f);
    return kib;
}

#endif
