/*
 * spore.c: the C guest SDK for Spore actors. See spore.h.
 */
#include "spore.h"

#include <stdlib.h>
#include <string.h>

/* ---- the waPC imports (SPEC section 3) ---- */

#define WAPC(name) __attribute__((import_module("wapc"), import_name(#name)))

WAPC(__guest_request) void wapc_guest_request(uint8_t *op, uint8_t *payload);
WAPC(__guest_response) void wapc_guest_response(const uint8_t *ptr, size_t len);
WAPC(__guest_error) void wapc_guest_error(const uint8_t *ptr, size_t len);
WAPC(__host_call) uint32_t wapc_host_call(const uint8_t *bd, size_t bd_len, const uint8_t *ns, size_t ns_len,
                                          const uint8_t *op, size_t op_len, const uint8_t *ptr, size_t len);
WAPC(__host_response_len) size_t wapc_host_response_len(void);
WAPC(__host_response) void wapc_host_response(uint8_t *ptr);
WAPC(__host_error_len) size_t wapc_host_error_len(void);
WAPC(__host_error) void wapc_host_error(uint8_t *ptr);
WAPC(__console_log) void wapc_console_log(const uint8_t *ptr, size_t len);

/* ---- per-call memory ---- */

typedef struct block {
    struct block *next;
    max_align_t data[];
} block;

static block *blocks;

void *spore_alloc(size_t n) {
    block *b = malloc(sizeof(block) + (n ? n : 1));
    if (b == NULL) {
        __builtin_trap(); /* out of memory: the host replaces the instance */
    }
    b->next = blocks;
    blocks = b;
    return b->data;
}

static void free_blocks(void) {
    while (blocks != NULL) {
        block *b = blocks;
        blocks = b->next;
        free(b);
    }
}

/* ---- strings and errors ---- */

spore_bytes spore_str(const char *s) {
    return (spore_bytes){(const uint8_t *)s, s ? strlen(s) : 0};
}

bool spore_bytes_eq(spore_bytes a, spore_bytes b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static spore_bytes last_error;

spore_bytes spore_last_error(void) { return last_error; }

void spore_set_error(spore_bytes text) {
    uint8_t *p = spore_alloc(text.len);
    memcpy(p, text.ptr, text.len);
    last_error = (spore_bytes){p, text.len};
}

size_t spore_fmt_i64(char *buf, int64_t v) {
    char tmp[21];
    size_t n = 0;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        tmp[n++] = '-';
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

/* ---- handlers and __guest_call ---- */

enum { max_handlers = 32 };

static struct {
    const char *op;
    spore_handler fn;
} handlers[max_handlers];
static size_t nhandlers;
static spore_bytes response;

void spore_handle(const char *operation, spore_handler fn) {
    for (size_t i = 0; i < nhandlers; i++) {
        if (strcmp(handlers[i].op, operation) == 0) {
            handlers[i].fn = fn;
            return;
        }
    }
    if (nhandlers == max_handlers) {
        __builtin_trap();
    }
    handlers[nhandlers].op = operation;
    handlers[nhandlers].fn = fn;
    nhandlers++;
}

void spore_respond(spore_bytes r) { response = r; }

static bool dispatch(spore_bytes op, spore_bytes payload) {
    for (size_t i = 0; i < nhandlers; i++) {
        if (spore_bytes_eq(op, spore_str(handlers[i].op))) {
            return handlers[i].fn(payload);
        }
    }
    static const char prefix[] = "no handler for operation ";
    uint8_t *msg = spore_alloc(sizeof prefix - 1 + op.len);
    memcpy(msg, prefix, sizeof prefix - 1);
    memcpy(msg + sizeof prefix - 1, op.ptr, op.len);
    last_error = (spore_bytes){msg, sizeof prefix - 1 + op.len};
    return false;
}

__attribute__((export_name("__guest_call"))) uint32_t spore_guest_call(size_t op_len, size_t payload_len) {
    uint8_t *op = spore_alloc(op_len);
    uint8_t *payload = spore_alloc(payload_len);
    wapc_guest_request(op, payload);
    response = (spore_bytes){0};
    last_error = (spore_bytes){0};
    bool ok = dispatch((spore_bytes){op, op_len}, (spore_bytes){payload, payload_len});
    if (ok) {
        wapc_guest_response(response.ptr, response.len);
    } else {
        if (last_error.len == 0) {
            last_error = SPORE_STR("the handler failed and gave no error text");
        }
        wapc_guest_error(last_error.ptr, last_error.len);
    }
    free_blocks(); /* the host has copied what it needs */
    return ok;
}

/* ---- MessagePack writer ---- */

static void w_need(spore_writer *w, size_t n) {
    if (w->len + n <= w->cap) {
        return;
    }
    size_t cap = w->cap ? 2 * w->cap : 64;
    while (cap < w->len + n) {
        cap *= 2;
    }
    uint8_t *buf = spore_alloc(cap);
    if (w->len) {
        memcpy(buf, w->buf, w->len);
    }
    w->buf = buf;
    w->cap = cap;
}

static void w_u8(spore_writer *w, uint8_t b) {
    w_need(w, 1);
    w->buf[w->len++] = b;
}

static void w_be(spore_writer *w, uint64_t v, int bytes) {
    w_need(w, bytes);
    for (int i = bytes - 1; i >= 0; i--) {
        w->buf[w->len++] = (uint8_t)(v >> (8 * i));
    }
}

static void w_raw(spore_writer *w, spore_bytes b) {
    w_need(w, b.len);
    if (b.len) {
        memcpy(w->buf + w->len, b.ptr, b.len);
    }
    w->len += b.len;
}

/* w_head writes a length: fix (or'ed into fix, below fix_max), 8-bit (f8,
 * 0 for none), 16-bit (f16) or 32-bit (f16 + 1). */
static void w_head(spore_writer *w, uint32_t n, uint8_t fix, uint32_t fix_max, uint8_t f8, uint8_t f16) {
    if (n < fix_max) {
        w_u8(w, fix | (uint8_t)n);
    } else if (f8 && n < 256) {
        w_u8(w, f8);
        w_u8(w, (uint8_t)n);
    } else if (n < 65536) {
        w_u8(w, f16);
        w_be(w, n, 2);
    } else {
        w_u8(w, f16 + 1);
        w_be(w, n, 4);
    }
}

void spore_mp_map(spore_writer *w, uint32_t n) { w_head(w, n, 0x80, 16, 0, 0xde); }
void spore_mp_array(spore_writer *w, uint32_t n) { w_head(w, n, 0x90, 16, 0, 0xdc); }
void spore_mp_nil(spore_writer *w) { w_u8(w, 0xc0); }
void spore_mp_bool(spore_writer *w, bool v) { w_u8(w, v ? 0xc3 : 0xc2); }

void spore_mp_str(spore_writer *w, spore_bytes s) {
    w_head(w, (uint32_t)s.len, 0xa0, 32, 0xd9, 0xda);
    w_raw(w, s);
}

void spore_mp_bin(spore_writer *w, spore_bytes b) {
    w_head(w, (uint32_t)b.len, 0, 0, 0xc4, 0xc5);
    w_raw(w, b);
}

void spore_mp_int(spore_writer *w, int64_t v) {
    if (v >= 0) {
        if (v < 128) {
            w_u8(w, (uint8_t)v);
        } else if (v < 256) {
            w_u8(w, 0xcc);
            w_be(w, (uint64_t)v, 1);
        } else if (v < 65536) {
            w_u8(w, 0xcd);
            w_be(w, (uint64_t)v, 2);
        } else if (v < 4294967296LL) {
            w_u8(w, 0xce);
            w_be(w, (uint64_t)v, 4);
        } else {
            w_u8(w, 0xcf);
            w_be(w, (uint64_t)v, 8);
        }
    } else if (v >= -32) {
        w_u8(w, (uint8_t)v);
    } else if (v >= -128) {
        w_u8(w, 0xd0);
        w_be(w, (uint64_t)v, 1);
    } else if (v >= -32768) {
        w_u8(w, 0xd1);
        w_be(w, (uint64_t)v, 2);
    } else if (v >= -2147483648LL) {
        w_u8(w, 0xd2);
        w_be(w, (uint64_t)v, 4);
    } else {
        w_u8(w, 0xd3);
        w_be(w, (uint64_t)v, 8);
    }
}

static void mp_key(spore_writer *w, const char *key) { spore_mp_str(w, spore_str(key)); }

/* mp_header writes header entries as a map of name to values; entries of
 * one name stand in a row. */
static void mp_header(spore_writer *w, const spore_header *h, size_t n) {
    uint32_t runs = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !spore_bytes_eq(h[i].name, h[i - 1].name)) {
            runs++;
        }
    }
    spore_mp_map(w, runs);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && spore_bytes_eq(h[j].name, h[i].name)) {
            j++;
        }
        spore_mp_str(w, h[i].name);
        spore_mp_array(w, (uint32_t)(j - i));
        for (; i < j; i++) {
            spore_mp_str(w, h[i].value);
        }
    }
}

/* ---- MessagePack reader ---- */

static const uint8_t *r_take(spore_reader *r, size_t n) {
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint64_t r_be(spore_reader *r, int bytes) {
    const uint8_t *p = r_take(r, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; p && i < bytes; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint8_t r_u8(spore_reader *r) { return (uint8_t)r_be(r, 1); }

static uint32_t r_container(spore_reader *r, uint8_t fix, uint8_t f16) {
    uint8_t b = r_u8(r);
    if ((b & 0xf0) == fix) {
        return b & 0x0f;
    }
    if (b == f16) {
        return (uint32_t)r_be(r, 2);
    }
    if (b == f16 + 1) {
        return (uint32_t)r_be(r, 4);
    }
    if (b != 0xc0) {
        r->err = true;
    }
    return 0;
}

uint32_t spore_mp_read_map(spore_reader *r) { return r_container(r, 0x80, 0xde); }
uint32_t spore_mp_read_array(spore_reader *r) { return r_container(r, 0x90, 0xdc); }

spore_bytes spore_mp_read_bytes(spore_reader *r) {
    uint8_t b = r_u8(r);
    size_t n;
    if ((b & 0xe0) == 0xa0) {
        n = b & 0x1f;
    } else if (b >= 0xd9 && b <= 0xdb) {
        n = (size_t)r_be(r, 1 << (b - 0xd9));
    } else if (b >= 0xc4 && b <= 0xc6) {
        n = (size_t)r_be(r, 1 << (b - 0xc4));
    } else {
        if (b != 0xc0) {
            r->err = true;
        }
        return (spore_bytes){0};
    }
    const uint8_t *p = r_take(r, n);
    return p ? (spore_bytes){p, n} : (spore_bytes){0};
}

int64_t spore_mp_read_int(spore_reader *r) {
    uint8_t b = r_u8(r);
    if (b < 0x80 || b >= 0xe0) {
        return (int8_t)b;
    }
    switch (b) {
    case 0xcc: return (int64_t)r_be(r, 1);
    case 0xcd: return (int64_t)r_be(r, 2);
    case 0xce: return (int64_t)r_be(r, 4);
    case 0xcf: return (int64_t)r_be(r, 8);
    case 0xd0: return (int8_t)r_be(r, 1);
    case 0xd1: return (int16_t)r_be(r, 2);
    case 0xd2: return (int32_t)r_be(r, 4);
    case 0xd3: return (int64_t)r_be(r, 8);
    }
    r->err = true;
    return 0;
}

bool spore_mp_read_bool(spore_reader *r) {
    uint8_t b = r_u8(r);
    if (b != 0xc2 && b != 0xc3 && b != 0xc0) {
        r->err = true;
    }
    return b == 0xc3;
}

/* max_depth bounds the nesting skip follows, so a forged payload cannot
 * run the stack out. */
enum { max_depth = 64 };

static void skip_at(spore_reader *r, int depth) {
    if (r->err || depth > max_depth) {
        r->err = true;
        return;
    }
    uint8_t b = r_u8(r);
    uint64_t n = 0; /* values to skip after the head */
    if (b < 0x80 || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
        return;
    } else if (b < 0x90) {
        n = 2 * (uint64_t)(b & 0x0f);
    } else if (b < 0xa0) {
        n = b & 0x0f;
    } else if (b < 0xc0) {
        r_take(r, b & 0x1f);
    } else if (b >= 0xc4 && b <= 0xc6) {
        r_take(r, (size_t)r_be(r, 1 << (b - 0xc4)));
    } else if (b >= 0xd9 && b <= 0xdb) {
        r_take(r, (size_t)r_be(r, 1 << (b - 0xd9)));
    } else if (b >= 0xc7 && b <= 0xc9) {
        r_take(r, (size_t)r_be(r, 1 << (b - 0xc7)) + 1);
    } else if (b == 0xca) {
        r_take(r, 4);
    } else if (b == 0xcb) {
        r_take(r, 8);
    } else if (b >= 0xcc && b <= 0xd3) {
        r_take(r, (size_t)1 << ((b - 0xcc) & 3));
    } else if (b >= 0xd4 && b <= 0xd8) {
        r_take(r, ((size_t)1 << (b - 0xd4)) + 1);
    } else if (b == 0xdc || b == 0xdd) {
        n = r_be(r, b == 0xdc ? 2 : 4);
    } else {
        n = 2 * r_be(r, b == 0xde ? 2 : 4);
    }
    for (; n > 0 && !r->err; n--) {
        skip_at(r, depth + 1);
    }
}

void spore_mp_skip(spore_reader *r) { skip_at(r, 0); }

static bool key_is(spore_bytes k, const char *name) { return spore_bytes_eq(k, spore_str(name)); }

/* read_header reads a map of name to values into entries. */
static void read_header(spore_reader *r, const spore_header **out, size_t *count) {
    uint32_t pairs = spore_mp_read_map(r);
    if ((size_t)(r->end - r->p) / 2 < pairs) { /* each pair takes two bytes at least */
        r->err = true;
        pairs = 0;
    }
    size_t cap = pairs, n = 0;
    spore_header *h = spore_alloc(cap * sizeof *h);
    for (uint32_t i = 0; i < pairs && !r->err; i++) {
        spore_bytes name = spore_mp_read_bytes(r);
        uint32_t vals = spore_mp_read_array(r);
        for (uint32_t j = 0; j < vals && !r->err; j++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 4;
                spore_header *g = spore_alloc(cap * sizeof *g);
                memcpy(g, h, n * sizeof *h);
                h = g;
            }
            h[n].name = name;
            h[n].value = spore_mp_read_bytes(r);
            n++;
        }
    }
    *out = h;
    *count = n;
}

static bool decode_failed(spore_reader *r, const char *what) {
    if (!r->err) {
        return false;
    }
    spore_set_error(spore_str(what));
    return true;
}

/* ---- host calls ---- */

bool spore_host_call(const char *binding, spore_bytes ns, spore_bytes operation, spore_bytes payload,
                     spore_bytes *resp) {
    spore_bytes bd = spore_str(binding);
    if (!wapc_host_call(bd.ptr, bd.len, ns.ptr, ns.len, operation.ptr, operation.len, payload.ptr, payload.len)) {
        size_t n = wapc_host_error_len();
        uint8_t *p = spore_alloc(n);
        wapc_host_error(p);
        last_error = (spore_bytes){p, n};
        return false;
    }
    size_t n = wapc_host_response_len();
    uint8_t *p = spore_alloc(n);
    wapc_host_response(p);
    if (resp) {
        *resp = (spore_bytes){p, n};
    }
    return true;
}

void spore_console_log(spore_bytes text) { wapc_console_log(text.ptr, text.len); }

/* call encodes nothing itself: it sends w's bytes to a contract and points r
 * at the response. */
static bool call(const char *link, const char *contract, const char *op, spore_writer *w, spore_reader *r) {
    spore_bytes resp;
    if (!spore_host_call(link, spore_str(contract), spore_str(op), spore_writer_bytes(w), &resp)) {
        return false;
    }
    *r = spore_reader_of(resp);
    return true;
}

/* ---- spore:httpserver ---- */

static spore_http_handler http_handler;

static bool http_entry(spore_bytes payload) {
    spore_reader r = spore_reader_of(payload);
    spore_http_request req = {0};
    for (uint32_t n = spore_mp_read_map(&r); n > 0 && !r.err; n--) {
        spore_bytes k = spore_mp_read_bytes(&r);
        if (key_is(k, "method")) {
            req.method = spore_mp_read_bytes(&r);
        } else if (key_is(k, "path")) {
            req.path = spore_mp_read_bytes(&r);
        } else if (key_is(k, "query")) {
            req.query = spore_mp_read_bytes(&r);
        } else if (key_is(k, "header")) {
            read_header(&r, &req.header, &req.header_len);
        } else if (key_is(k, "body")) {
            req.body = spore_mp_read_bytes(&r);
        } else {
            spore_mp_skip(&r);
        }
    }
    if (decode_failed(&r, "spore: HttpServer.HandleRequest: the request is not valid MessagePack")) {
        return false;
    }
    spore_http_response resp = {0};
    if (!http_handler(&req, &resp)) {
        return false;
    }
    spore_writer w = {0};
    spore_mp_map(&w, 3);
    mp_key(&w, "status");
    spore_mp_int(&w, resp.status ? resp.status : 200);
    mp_key(&w, "header");
    mp_header(&w, resp.header, resp.header_len);
    mp_key(&w, "body");
    spore_mp_bin(&w, resp.body);
    spore_respond(spore_writer_bytes(&w));
    return true;
}

void spore_handle_http(spore_http_handler fn) {
    http_handler = fn;
    spore_handle("HttpServer.HandleRequest", http_entry);
}

/* ---- spore:messaging ---- */

static void read_message(spore_reader *r, spore_message *m) {
    *m = (spore_message){0};
    for (uint32_t n = spore_mp_read_map(r); n > 0 && !r->err; n--) {
        spore_bytes k = spore_mp_read_bytes(r);
        if (key_is(k, "subject")) {
            m->subject = spore_mp_read_bytes(r);
        } else if (key_is(k, "reply_to")) {
            m->reply_to = spore_mp_read_bytes(r);
        } else if (key_is(k, "body")) {
            m->body = spore_mp_read_bytes(r);
        } else {
            spore_mp_skip(r);
        }
    }
}

static spore_message_handler message_handler;

static bool message_entry(spore_bytes payload) {
    spore_reader r = spore_reader_of(payload);
    spore_message m;
    read_message(&r, &m);
    if (decode_failed(&r, "spore: Messaging.HandleMessage: the message is not valid MessagePack")) {
        return false;
    }
    spore_bytes reply = {0};
    if (!message_handler(&m, &reply)) {
        return false;
    }
    spore_respond(reply);
    return true;
}

void spore_handle_message(spore_message_handler fn) {
    message_handler = fn;
    spore_handle("Messaging.HandleMessage", message_entry);
}

bool spore_msg_publish(const char *link, spore_bytes subject, spore_bytes reply_to, spore_bytes body) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 3);
    mp_key(&w, "subject");
    spore_mp_str(&w, subject);
    mp_key(&w, "reply_to");
    spore_mp_str(&w, reply_to);
    mp_key(&w, "body");
    spore_mp_bin(&w, body);
    return call(link, "spore:messaging", "Messaging.Publish", &w, &r);
}

bool spore_msg_request(const char *link, spore_bytes subject, spore_bytes body, uint32_t timeout_ms,
                       spore_message *reply) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 3);
    mp_key(&w, "subject");
    spore_mp_str(&w, subject);
    mp_key(&w, "body");
    spore_mp_bin(&w, body);
    mp_key(&w, "timeout_ms");
    spore_mp_int(&w, timeout_ms);
    if (!call(link, "spore:messaging", "Messaging.Request", &w, &r)) {
        return false;
    }
    read_message(&r, reply);
    return !decode_failed(&r, "spore: Messaging.Request: the reply is not valid MessagePack");
}

/* ---- spore:keyvalue ---- */

/* kv_key calls a keyvalue operation whose payload is one string. */
static bool kv_key(const char *link, const char *op, spore_bytes key, spore_reader *r) {
    spore_writer w = {0};
    spore_mp_str(&w, key);
    return call(link, "spore:keyvalue", op, &w, r);
}

bool spore_kv_get(const char *link, spore_bytes key, spore_bytes *value, bool *exists) {
    spore_reader r;
    if (!kv_key(link, "KeyValue.Get", key, &r)) {
        return false;
    }
    *value = (spore_bytes){0};
    *exists = false;
    for (uint32_t n = spore_mp_read_map(&r); n > 0 && !r.err; n--) {
        spore_bytes k = spore_mp_read_bytes(&r);
        if (key_is(k, "value")) {
            *value = spore_mp_read_bytes(&r);
        } else if (key_is(k, "exists")) {
            *exists = spore_mp_read_bool(&r);
        } else {
            spore_mp_skip(&r);
        }
    }
    return !decode_failed(&r, "spore: KeyValue.Get: the response is not valid MessagePack");
}

bool spore_kv_set(const char *link, spore_bytes key, spore_bytes value, uint32_t ttl_seconds) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 3);
    mp_key(&w, "key");
    spore_mp_str(&w, key);
    mp_key(&w, "value");
    spore_mp_bin(&w, value);
    mp_key(&w, "ttl_seconds");
    spore_mp_int(&w, ttl_seconds);
    return call(link, "spore:keyvalue", "KeyValue.Set", &w, &r);
}

static bool kv_bool(const char *link, const char *op, spore_bytes key, bool *out) {
    spore_reader r;
    if (!kv_key(link, op, key, &r)) {
        return false;
    }
    *out = spore_mp_read_bool(&r);
    return !decode_failed(&r, "spore: keyvalue: the response is not a bool");
}

bool spore_kv_delete(const char *link, spore_bytes key, bool *existed) {
    return kv_bool(link, "KeyValue.Delete", key, existed);
}

bool spore_kv_exists(const char *link, spore_bytes key, bool *exists) {
    return kv_bool(link, "KeyValue.Exists", key, exists);
}

bool spore_kv_increment(const char *link, spore_bytes key, int64_t delta, int64_t *value) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 2);
    mp_key(&w, "key");
    spore_mp_str(&w, key);
    mp_key(&w, "delta");
    spore_mp_int(&w, delta);
    if (!call(link, "spore:keyvalue", "KeyValue.Increment", &w, &r)) {
        return false;
    }
    *value = spore_mp_read_int(&r);
    return !decode_failed(&r, "spore: KeyValue.Increment: the response is not an integer");
}

bool spore_kv_keys(const char *link, spore_bytes prefix, spore_bytes **keys, size_t *count) {
    spore_reader r;
    if (!kv_key(link, "KeyValue.Keys", prefix, &r)) {
        return false;
    }
    uint32_t n = spore_mp_read_array(&r);
    if ((size_t)(r.end - r.p) < n) { /* each key takes a byte at least */
        r.err = true;
        n = 0;
    }
    spore_bytes *k = spore_alloc(n * sizeof *k);
    for (uint32_t i = 0; i < n; i++) {
        k[i] = spore_mp_read_bytes(&r);
    }
    *keys = k;
    *count = n;
    return !decode_failed(&r, "spore: KeyValue.Keys: the response is not a list of strings");
}

/* ---- spore:httpclient ---- */

bool spore_http_send(const char *link, const spore_http_outbound *req, spore_http_response *resp) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 4);
    mp_key(&w, "method");
    spore_mp_str(&w, req->method);
    mp_key(&w, "url");
    spore_mp_str(&w, req->url);
    mp_key(&w, "header");
    mp_header(&w, req->header, req->header_len);
    mp_key(&w, "body");
    spore_mp_bin(&w, req->body);
    if (!call(link, "spore:httpclient", "HttpClient.Request", &w, &r)) {
        return false;
    }
    *resp = (spore_http_response){0};
    for (uint32_t n = spore_mp_read_map(&r); n > 0 && !r.err; n--) {
        spore_bytes k = spore_mp_read_bytes(&r);
        if (key_is(k, "status")) {
            resp->status = (uint16_t)spore_mp_read_int(&r);
        } else if (key_is(k, "header")) {
            read_header(&r, &resp->header, &resp->header_len);
        } else if (key_is(k, "body")) {
            resp->body = spore_mp_read_bytes(&r);
        } else {
            spore_mp_skip(&r);
        }
    }
    return !decode_failed(&r, "spore: HttpClient.Request: the response is not valid MessagePack");
}

/* ---- spore:logging ---- */

bool spore_log(const char *level, spore_bytes text) {
    spore_writer w = {0};
    spore_reader r;
    spore_mp_map(&w, 2);
    mp_key(&w, "level");
    mp_key(&w, level);
    mp_key(&w, "text");
    spore_mp_str(&w, text);
    return call(NULL, "spore:logging", "Logging.Write", &w, &r);
}

/* ---- actor to actor ---- */

bool spore_call(spore_bytes actor, spore_bytes operation, spore_bytes payload, spore_bytes *resp) {
    return spore_host_call(NULL, actor, operation, payload, resp);
}
