/*
 * Calls every typed helper of the C SDK once, for test/languages:
 * Contracts.Run reports what each call returned, one line per call, and
 * Messaging.HandleMessage echoes the message it gets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spore.h"

static char report[4096];
static size_t used;

static void line(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    if (used) {
        report[used++] = '\n';
    }
    used += (size_t)vsnprintf(report + used, sizeof report - used, format, ap);
    va_end(ap);
}

#define S(b) (int)(b).len, (const char *)(b).ptr
#define CHECK(call) \
    if (!(call)) return false

static bool run(spore_bytes payload) {
    (void)payload;
    used = 0;
    spore_bytes v, *keys, resp;
    bool ok;
    int64_t n;
    size_t count;

    CHECK(spore_kv_get(NULL, SPORE_STR("k"), &v, &ok));
    line("get %.*s %s", S(v), ok ? "true" : "false");
    CHECK(spore_kv_set(NULL, SPORE_STR("k"), SPORE_STR("v"), 7));
    line("set");
    CHECK(spore_kv_delete(NULL, SPORE_STR("k"), &ok));
    line("delete %s", ok ? "true" : "false");
    CHECK(spore_kv_exists(NULL, SPORE_STR("k"), &ok));
    line("exists %s", ok ? "true" : "false");
    CHECK(spore_kv_increment(NULL, SPORE_STR("n"), -3, &n));
    line("increment %lld", (long long)n);
    CHECK(spore_kv_keys(NULL, SPORE_STR("p"), &keys, &count));
    line("keys");
    for (size_t i = 0; i < count; i++) {
        used += (size_t)snprintf(report + used, sizeof report - used, "%s%.*s", i ? "," : " ", S(keys[i]));
    }

    CHECK(spore_msg_publish("bus", SPORE_STR("s"), SPORE_STR("r"), SPORE_STR("b")));
    line("publish");
    spore_message reply;
    CHECK(spore_msg_request("bus", SPORE_STR("s"), SPORE_STR("q"), 250, &reply));
    line("request %.*s %.*s", S(reply.subject), S(reply.body));

    static const spore_header h[] = {{SPORE_STR("A"), SPORE_STR("1")}, {SPORE_STR("A"), SPORE_STR("2")}};
    spore_http_outbound req = {SPORE_STR("GET"), SPORE_STR("http://x/"), h, 2, SPORE_STR("hb")};
    spore_http_response r;
    CHECK(spore_http_send(NULL, &req, &r));
    line("http %d %.*s %.*s", r.status, S(r.header[0].value), S(r.body));

    CHECK(spore_log("warn", SPORE_STR("w")));
    line("log");
    CHECK(spore_call(SPORE_STR("other"), SPORE_STR("Ping"), SPORE_STR("p"), &resp));
    line("call %.*s", S(resp));
    if (spore_kv_get(NULL, SPORE_STR("denied"), &v, &ok)) {
        spore_set_error(SPORE_STR("denied: the call succeeded"));
        return false;
    }
    line("denied %.*s", S(spore_last_error()));
    spore_respond((spore_bytes){(const uint8_t *)report, used});
    return true;
}

static bool echo(const spore_message *m, spore_bytes *out) {
    size_t n = m->subject.len + m->reply_to.len + m->body.len + 2;
    char *p = spore_alloc(n + 1);
    snprintf(p, n + 1, "%.*s|%.*s|%.*s", S(m->subject), S(m->reply_to), S(m->body));
    *out = (spore_bytes){(const uint8_t *)p, n};
    return true;
}

__attribute__((constructor)) static void init(void) {
    spore_handle("Contracts.Run", run);
    spore_handle_message(echo);
}
