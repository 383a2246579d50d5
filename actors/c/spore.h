/*
 * spore.h: the C guest SDK for Spore actors.
 *
 * An actor is a WASI reactor built with clang's wasm32-wasi target from
 * your sources and spore.c:
 *
 *   clang-14 --target=wasm32-wasi -mexec-model=reactor -Oz -I actors/c \
 *       -Wl,--strip-all -Wl,--stack-first -o counter.wasm counter.c actors/c/spore.c
 *
 * Register handlers in a constructor, which the reactor's _initialize runs
 * once per instance:
 *
 *   __attribute__((constructor)) static void init(void) {
 *       spore_handle_http(count);
 *   }
 *
 * The SDK exports __guest_call (SPEC section 3): the host names an
 * operation and hands over a payload, the SDK runs the handler registered
 * for it, and its response (or error) goes back. Handlers reach the world
 * only through host calls: spore_host_call raw, or the typed helpers
 * below, which encode and decode the MessagePack payloads of SPEC section 5
 * (see wit/README.md).
 *
 * Memory: everything the SDK hands a handler (the payload, decoded
 * requests, host responses, spore_alloc) lives until the call returns and
 * is then freed; copy what must outlive the call. Strings are spore_bytes
 * (pointer and length, not NUL-terminated); SPORE_STR("lit") and
 * spore_str(cstr) make them. A link name of NULL or "" is the default link.
 *
 * Errors: the helpers return false when the host refused the call or the
 * provider failed; spore_last_error() then holds the host's text. A typed
 * handler that returns false fails the call with spore_last_error(), so a
 * handler can pass a host error on by returning false, or set its own with
 * spore_set_error.
 */
#ifndef SPORE_H
#define SPORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes, or a UTF-8 string: a pointer and a length. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} spore_bytes;

#define SPORE_STR(lit) ((spore_bytes){(const uint8_t *)(lit), sizeof(lit) - 1})
spore_bytes spore_str(const char *s);
bool spore_bytes_eq(spore_bytes a, spore_bytes b);

/* One header value; a name with several values has one entry each, in a row. */
typedef struct {
    spore_bytes name;
    spore_bytes value;
} spore_header;

/* Payload of HttpServer.HandleRequest. */
typedef struct {
    spore_bytes method;
    spore_bytes path;  /* starts with "/", no query */
    spore_bytes query; /* without the "?" */
    const spore_header *header;
    size_t header_len;
    spore_bytes body;
} spore_http_request;

/* Answer of HttpServer.HandleRequest and of HttpClient.Request. */
typedef struct {
    uint16_t status; /* 0 means 200 in a handler's response */
    const spore_header *header;
    size_t header_len;
    spore_bytes body;
} spore_http_response;

/* Payload of HttpClient.Request. */
typedef struct {
    spore_bytes method;
    spore_bytes url;
    const spore_header *header;
    size_t header_len;
    spore_bytes body;
} spore_http_outbound;

/* A message, as Messaging.HandleMessage delivers it and Messaging.Request
 * answers. */
typedef struct {
    spore_bytes subject;
    spore_bytes reply_to; /* empty for none */
    spore_bytes body;
} spore_message;

/* ---- handlers ---- */

/* A raw handler: respond with spore_respond and return true, or return
 * false to fail the call with spore_last_error(). */
typedef bool (*spore_handler)(spore_bytes payload);
/* Registers a raw handler for an operation (at most 32 operations). */
void spore_handle(const char *operation, spore_handler fn);
/* Hands the response payload of the current call to the host. */
void spore_respond(spore_bytes response);

/* HttpServer.HandleRequest (contract spore:httpserver). Fill resp; a zero
 * status is 200. */
typedef bool (*spore_http_handler)(const spore_http_request *req, spore_http_response *resp);
void spore_handle_http(spore_http_handler fn);

/* Messaging.HandleMessage (contract spore:messaging). Set *reply to the
 * reply body (sent when the message has a reply subject; may stay empty). */
typedef bool (*spore_message_handler)(const spore_message *msg, spore_bytes *reply);
void spore_handle_message(spore_message_handler fn);

/* ---- errors and memory ---- */

/* The text of the last failure: a host error, or what spore_set_error set. */
spore_bytes spore_last_error(void);
void spore_set_error(spore_bytes text);
/* n bytes that live until the current call returns. */
void *spore_alloc(size_t n);
/* Writes v in decimal to buf (at least 21 bytes); returns the length. */
size_t spore_fmt_i64(char *buf, int64_t v);

/* ---- host calls ---- */

/* Calls operation on namespace (a contract id, or an actor's id or call
 * alias) through the link named binding, with a raw payload. */
bool spore_host_call(const char *binding, spore_bytes ns, spore_bytes operation,
                     spore_bytes payload, spore_bytes *response);
/* Writes a line to the host log through __console_log (no claim needed). */
void spore_console_log(spore_bytes text);

/* spore:keyvalue (claim and link needed). */
bool spore_kv_get(const char *link, spore_bytes key, spore_bytes *value, bool *exists);
bool spore_kv_set(const char *link, spore_bytes key, spore_bytes value, uint32_t ttl_seconds);
bool spore_kv_delete(const char *link, spore_bytes key, bool *existed);
bool spore_kv_exists(const char *link, spore_bytes key, bool *exists);
bool spore_kv_increment(const char *link, spore_bytes key, int64_t delta, int64_t *value);
bool spore_kv_keys(const char *link, spore_bytes prefix, spore_bytes **keys, size_t *count);

/* spore:messaging (claim and link needed); timeout_ms 0 leaves the deadline
 * to the provider. */
bool spore_msg_publish(const char *link, spore_bytes subject, spore_bytes reply_to, spore_bytes body);
bool spore_msg_request(const char *link, spore_bytes subject, spore_bytes body, uint32_t timeout_ms,
                       spore_message *reply);

/* spore:httpclient (claim and link needed). Any status is a response. */
bool spore_http_send(const char *link, const spore_http_outbound *req, spore_http_response *resp);

/* spore:logging (claim needed, no link). level: debug, info, warn, error. */
bool spore_log(const char *level, spore_bytes text);

/* Actor to actor (claim spore:actor): operation on the actor named by id or
 * call alias. */
bool spore_call(spore_bytes actor, spore_bytes operation, spore_bytes payload, spore_bytes *response);

/* ---- MessagePack, for payloads of your own ---- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} spore_writer;

void spore_mp_map(spore_writer *w, uint32_t n);
void spore_mp_array(spore_writer *w, uint32_t n);
void spore_mp_str(spore_writer *w, spore_bytes s);
void spore_mp_bin(spore_writer *w, spore_bytes b);
void spore_mp_int(spore_writer *w, int64_t v);
void spore_mp_bool(spore_writer *w, bool v);
void spore_mp_nil(spore_writer *w);
static inline spore_bytes spore_writer_bytes(const spore_writer *w) { return (spore_bytes){w->buf, w->len}; }

/* A reader; any malformed or short input sets err and reads zeros. */
typedef struct {
    const uint8_t *p, *end;
    bool err;
} spore_reader;

static inline spore_reader spore_reader_of(spore_bytes b) { return (spore_reader){b.ptr, b.ptr + b.len, false}; }
uint32_t spore_mp_read_map(spore_reader *r);   /* nil is 0 */
uint32_t spore_mp_read_array(spore_reader *r); /* nil is 0 */
spore_bytes spore_mp_read_bytes(spore_reader *r); /* str or bin; nil is empty */
int64_t spore_mp_read_int(spore_reader *r);
bool spore_mp_read_bool(spore_reader *r); /* nil is false */
void spore_mp_skip(spore_reader *r);

#ifdef __cplusplus
}
#endif
#endif
