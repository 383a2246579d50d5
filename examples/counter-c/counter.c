/*
 * counter.c: the counter actor in C. Every HTTP request adds one to a
 * counter kept in the key-value store under the request's path, and the
 * answer is the new count as JSON, {"count":N}.
 *
 *   clang-14 --target=wasm32-wasi -mexec-model=reactor -Oz -I ../../actors/c \
 *       -Wl,--strip-all -Wl,--stack-first -o counter.wasm counter.c ../../actors/c/spore.c
 */
#include <string.h>

#include "spore.h"

static const spore_header json[] = {{SPORE_STR("Content-Type"), SPORE_STR("application/json")}};

static bool count(const spore_http_request *req, spore_http_response *resp) {
    int64_t n;
    if (!spore_kv_increment(NULL, req->path, 1, &n)) {
        return false; /* the host's error fails the call */
    }
    char *body = spore_alloc(32);
    size_t len = sizeof "{\"count\":" - 1;
    memcpy(body, "{\"count\":", len);
    len += spore_fmt_i64(body + len, n);
    body[len++] = '}';
    resp->status = 200;
    resp->header = json;
    resp->header_len = 1;
    resp->body = (spore_bytes){(const uint8_t *)body, len};
    return true;
}

__attribute__((constructor)) static void init(void) { spore_handle_http(count); }
