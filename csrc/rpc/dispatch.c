/* dispatch.c — one method table for both framings. See rpc.h. */
#include <string.h>

#include "common/common.h"
#include "rpc/rpc.h"

int rpc_dispatch(const rpc_method *table, size_t n, const rpc_msg *m, void *ud, rpc_arena *a, rpc_val **result,
                 char *err, size_t errlen) {
    *result = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, m->method)) continue;
        if (!m->params)
            return fl_seterr(err, errlen, "%s: params must be %s", table[i].name,
                             m->args && m->args->type == RPC_ARR ? "an array holding one map, [ {...} ]" : "an object");
        char why[FL_ERRLEN] = "";
        if (!table[i].fn(ud, m->params, a, result, why, sizeof why)) return 0;
        return fl_seterr(err, errlen, "%s: %s", table[i].name, why);
    }
    return fl_seterr(err, errlen, "unknown method '%.64s'", m->method);
}
