// Spore's AssemblyScript helpers for the contracts of SPEC section 5, on top
// of the standard waPC guest, @wapc/as-guest (register, handleCall,
// hostCall, Result), and its MessagePack codec, @wapc/as-msgpack.
//
// An actor's entry file declares the two functions @wapc/as-guest asks for
// (__guest_call and abort, see examples/counter-as) and registers handlers
// at top level, which runs once per instance:
//
//   handleHttp(count);
//
//   function count(req: HttpRequest): Result<HttpResponse> {
//     const n = new KeyValue().increment(req.path, 1);
//     if (!n.isOk) return Result.error<HttpResponse>(n.error()!);
//     return Result.ok(HttpResponse.json(200, `{"count":${n.get()}}`));
//   }
//
// Raw operations still go through @wapc/as-guest's register and hostCall.
// Payloads are MessagePack maps as wit/README.md states. Operations whose
// result is empty return Error | null here, the others Result<T>.

import { register, hostCall, Result } from "@wapc/as-guest";
import { Decoder, Encoder, Sizer, Writer } from "@wapc/as-msgpack";

export { Result } from "@wapc/as-guest";

// Header fields, name to values.
export type Header = Map<string, Array<string>>;

// ---- payload types ----

// HttpRequest is the payload of HttpServer.HandleRequest.
export class HttpRequest {
  method: string = "";
  path: string = ""; // starts with "/", without the query
  query: string = ""; // without the "?"
  header: Header = new Map<string, Array<string>>();
  body: ArrayBuffer = new ArrayBuffer(0);

  static decode(d: Decoder): HttpRequest {
    const r = new HttpRequest();
    let n = d.readMapSize();
    while (n-- > 0 && d.error() == null) {
      const k = d.readString();
      if (k == "method") r.method = d.readString();
      else if (k == "path") r.path = d.readString();
      else if (k == "query") r.query = d.readString();
      else if (k == "header") r.header = decodeHeader(d);
      else if (k == "body") r.body = d.readByteArray();
      else skip(d);
    }
    return r;
  }
}

// HttpResponse answers HttpServer.HandleRequest and HttpClient.Request. A
// handler's status 0 is sent as 200.
export class HttpResponse {
  status: u16 = 200;
  header: Header = new Map<string, Array<string>>();
  body: ArrayBuffer = new ArrayBuffer(0);

  // A response with a status, one Content-Type and a UTF-8 body.
  static typed(status: u16, contentType: string, body: string): HttpResponse {
    const r = new HttpResponse();
    r.status = status;
    r.header.set("Content-Type", [contentType]);
    r.body = String.UTF8.encode(body);
    return r;
  }

  // A JSON response.
  static json(status: u16, body: string): HttpResponse {
    return HttpResponse.typed(status, "application/json", body);
  }

  encode(w: Writer): void {
    w.writeMapSize(3);
    w.writeString("status");
    w.writeUInt16(this.status);
    w.writeString("header");
    encodeHeader(w, this.header);
    w.writeString("body");
    w.writeByteArray(this.body);
  }

  static decode(d: Decoder): HttpResponse {
    const r = new HttpResponse();
    let n = d.readMapSize();
    while (n-- > 0 && d.error() == null) {
      const k = d.readString();
      if (k == "status") r.status = d.readUInt16();
      else if (k == "header") r.header = decodeHeader(d);
      else if (k == "body") r.body = d.readByteArray();
      else skip(d);
    }
    return r;
  }
}

// OutboundRequest is the payload of HttpClient.Request.
export class OutboundRequest {
  method: string = "GET";
  url: string = ""; // an absolute http or https URL
  header: Header = new Map<string, Array<string>>();
  body: ArrayBuffer = new ArrayBuffer(0);

  encode(w: Writer): void {
    w.writeMapSize(4);
    w.writeString("method");
    w.writeString(this.method);
    w.writeString("url");
    w.writeString(this.url);
    w.writeString("header");
    encodeHeader(w, this.header);
    w.writeString("body");
    w.writeByteArray(this.body);
  }
}

// Message is published, answered by Messaging.Request and delivered by
// Messaging.HandleMessage.
export class Message {
  subject: string = "";
  replyTo: string = ""; // "" for none
  body: ArrayBuffer = new ArrayBuffer(0);

  encode(w: Writer): void {
    w.writeMapSize(3);
    w.writeString("subject");
    w.writeString(this.subject);
    w.writeString("reply_to");
    w.writeString(this.replyTo);
    w.writeString("body");
    w.writeByteArray(this.body);
  }

  static decode(d: Decoder): Message {
    const m = new Message();
    let n = d.readMapSize();
    while (n-- > 0 && d.error() == null) {
      const k = d.readString();
      if (k == "subject") m.subject = d.readString();
      else if (k == "reply_to") m.replyTo = d.readString();
      else if (k == "body") m.body = d.readByteArray();
      else skip(d);
    }
    return m;
  }
}

// GetResponse answers KeyValue.Get; a missing key has exists false.
export class GetResponse {
  value: ArrayBuffer = new ArrayBuffer(0);
  exists: bool = false;

  static decode(d: Decoder): GetResponse {
    const r = new GetResponse();
    let n = d.readMapSize();
    while (n-- > 0 && d.error() == null) {
      const k = d.readString();
      if (k == "value") r.value = d.readByteArray();
      else if (k == "exists") r.exists = d.readBool();
      else skip(d);
    }
    return r;
  }
}

class SetRequest {
  constructor(public key: string, public value: ArrayBuffer, public ttlSeconds: u32) {}

  encode(w: Writer): void {
    w.writeMapSize(3);
    w.writeString("key");
    w.writeString(this.key);
    w.writeString("value");
    w.writeByteArray(this.value);
    w.writeString("ttl_seconds");
    w.writeUInt32(this.ttlSeconds);
  }
}

class IncrementRequest {
  constructor(public key: string, public delta: i64) {}

  encode(w: Writer): void {
    w.writeMapSize(2);
    w.writeString("key");
    w.writeString(this.key);
    w.writeString("delta");
    w.writeInt64(this.delta);
  }
}

class RequestMessage {
  constructor(public subject: string, public body: ArrayBuffer, public timeoutMs: u32) {}

  encode(w: Writer): void {
    w.writeMapSize(3);
    w.writeString("subject");
    w.writeString(this.subject);
    w.writeString("body");
    w.writeByteArray(this.body);
    w.writeString("timeout_ms");
    w.writeUInt32(this.timeoutMs);
  }
}

class LogEntry {
  constructor(public level: string, public text: string) {}

  encode(w: Writer): void {
    w.writeMapSize(2);
    w.writeString("level");
    w.writeString(this.level);
    w.writeString("text");
    w.writeString(this.text);
  }
}

class Str {
  constructor(public s: string) {}

  encode(w: Writer): void {
    w.writeString(this.s);
  }
}

// ---- MessagePack ----

// skip passes over one value of any type. Decoder.skip goes on through a
// container's announced length after the input ran out, so a forged count
// would keep it busy for ever; this one stops at the first error.
function skip(d: Decoder): void {
  let n = d.getSize();
  while (n-- > 0 && d.error() == null) skip(d);
}

function decodeHeader(d: Decoder): Header {
  const h = new Map<string, Array<string>>();
  let n = d.readMapSize();
  while (n-- > 0 && d.error() == null) {
    const name = d.readString();
    let m = d.readArraySize();
    const values = new Array<string>();
    while (m-- > 0 && d.error() == null) values.push(d.readString());
    h.set(name, values);
  }
  return h;
}

function encodeHeader(w: Writer, h: Header): void {
  const names = h.keys();
  w.writeMapSize(names.length);
  for (let i = 0; i < names.length; i++) {
    const values = h.get(names[i]);
    w.writeString(names[i]);
    w.writeArraySize(values.length);
    for (let j = 0; j < values.length; j++) w.writeString(values[j]);
  }
}

// encode serializes any value with an encode(Writer) method.
export function encode<T>(v: T): ArrayBuffer {
  const sizer = new Sizer();
  v.encode(sizer);
  const buf = new ArrayBuffer(sizer.length);
  v.encode(new Encoder(buf));
  return buf;
}

function decodeError<T>(op: string, d: Decoder): Result<T> {
  return Result.error<T>(new Error("spore: " + op + ": " + d.error()!.message));
}

// ---- handlers ----

let httpHandler: ((req: HttpRequest) => Result<HttpResponse>) | null = null;

function httpEntry(payload: ArrayBuffer): Result<ArrayBuffer> {
  const d = new Decoder(payload);
  const req = HttpRequest.decode(d);
  if (d.error() != null) return decodeError<ArrayBuffer>("HttpServer.HandleRequest: decode request", d);
  const resp = httpHandler!(req);
  if (!resp.isOk) return Result.error<ArrayBuffer>(resp.error()!);
  const r = resp.get();
  if (r.status == 0) r.status = 200;
  return Result.ok(encode(r));
}

// handleHttp registers the handler of HttpServer.HandleRequest (contract
// spore:httpserver).
export function handleHttp(fn: (req: HttpRequest) => Result<HttpResponse>): void {
  httpHandler = fn;
  register("HttpServer.HandleRequest", httpEntry);
}

let messageHandler: ((msg: Message) => Result<ArrayBuffer>) | null = null;

function messageEntry(payload: ArrayBuffer): Result<ArrayBuffer> {
  const d = new Decoder(payload);
  const msg = Message.decode(d);
  if (d.error() != null) return decodeError<ArrayBuffer>("Messaging.HandleMessage: decode message", d);
  return messageHandler!(msg);
}

// handleMessage registers the handler of Messaging.HandleMessage (contract
// spore:messaging); what it returns is the reply body, sent when the message
// has a reply subject (it may be empty).
export function handleMessage(fn: (msg: Message) => Result<ArrayBuffer>): void {
  messageHandler = fn;
  register("Messaging.HandleMessage", messageEntry);
}

// ---- host calls ----

// call sends an encoded payload to a contract and returns the raw response.
function call(link: string, contract: string, op: string, payload: ArrayBuffer): Result<ArrayBuffer> {
  return hostCall(link, contract, op, payload);
}

function done(r: Result<ArrayBuffer>): Error | null {
  return r.isOk ? null : r.error();
}

function readBool(op: string, r: Result<ArrayBuffer>): Result<bool> {
  if (!r.isOk) return Result.error<bool>(r.error()!);
  const d = new Decoder(r.get());
  const v = d.readBool();
  if (d.error() != null) return decodeError<bool>(op, d);
  return Result.ok<bool>(v);
}

// KeyValue is the key-value store linked under a link name ("" for the
// default link); the actor needs the spore:keyvalue claim and a link.
export class KeyValue {
  constructor(public link: string = "") {}

  get(key: string): Result<GetResponse> {
    const r = call(this.link, "spore:keyvalue", "KeyValue.Get", encode(new Str(key)));
    if (!r.isOk) return Result.error<GetResponse>(r.error()!);
    const d = new Decoder(r.get());
    const v = GetResponse.decode(d);
    if (d.error() != null) return decodeError<GetResponse>("KeyValue.Get", d);
    return Result.ok(v);
  }

  // set stores value under key; ttlSeconds 0 means no expiry.
  set(key: string, value: ArrayBuffer, ttlSeconds: u32 = 0): Error | null {
    return done(call(this.link, "spore:keyvalue", "KeyValue.Set", encode(new SetRequest(key, value, ttlSeconds))));
  }

  // delete removes key; true if it existed.
  delete(key: string): Result<bool> {
    return readBool("KeyValue.Delete", call(this.link, "spore:keyvalue", "KeyValue.Delete", encode(new Str(key))));
  }

  exists(key: string): Result<bool> {
    return readBool("KeyValue.Exists", call(this.link, "spore:keyvalue", "KeyValue.Exists", encode(new Str(key))));
  }

  // increment adds delta to the integer under key (a missing key counts as
  // 0) and returns the new value.
  increment(key: string, delta: i64): Result<i64> {
    const r = call(this.link, "spore:keyvalue", "KeyValue.Increment", encode(new IncrementRequest(key, delta)));
    if (!r.isOk) return Result.error<i64>(r.error()!);
    const d = new Decoder(r.get());
    const v = d.readInt64();
    if (d.error() != null) return decodeError<i64>("KeyValue.Increment", d);
    return Result.ok<i64>(v);
  }

  // keys returns the keys that start with prefix ("" for all).
  keys(prefix: string): Result<Array<string>> {
    const r = call(this.link, "spore:keyvalue", "KeyValue.Keys", encode(new Str(prefix)));
    if (!r.isOk) return Result.error<Array<string>>(r.error()!);
    const d = new Decoder(r.get());
    let n = d.readArraySize();
    const keys = new Array<string>();
    while (n-- > 0 && d.error() == null) keys.push(d.readString());
    if (d.error() != null) return decodeError<Array<string>>("KeyValue.Keys", d);
    return Result.ok(keys);
  }
}

// Messaging is the message broker linked under a link name; the actor needs
// the spore:messaging claim and a link. Subjects under spore.> are refused.
export class Messaging {
  constructor(public link: string = "") {}

  publish(subject: string, replyTo: string, body: ArrayBuffer): Error | null {
    const m = new Message();
    m.subject = subject;
    m.replyTo = replyTo;
    m.body = body;
    return done(call(this.link, "spore:messaging", "Messaging.Publish", encode(m)));
  }

  // request waits up to timeoutMs (0: the provider's default) for one reply.
  request(subject: string, body: ArrayBuffer, timeoutMs: u32 = 0): Result<Message> {
    const r = call(this.link, "spore:messaging", "Messaging.Request", encode(new RequestMessage(subject, body, timeoutMs)));
    if (!r.isOk) return Result.error<Message>(r.error()!);
    const d = new Decoder(r.get());
    const m = Message.decode(d);
    if (d.error() != null) return decodeError<Message>("Messaging.Request", d);
    return Result.ok(m);
  }
}

// HttpClient sends outbound HTTP requests through a link whose
// allowed_hosts lists the hosts (claim spore:httpclient). Any status is a
// response; errors are for requests that got none.
export class HttpClient {
  constructor(public link: string = "") {}

  request(req: OutboundRequest): Result<HttpResponse> {
    const r = call(this.link, "spore:httpclient", "HttpClient.Request", encode(req));
    if (!r.isOk) return Result.error<HttpResponse>(r.error()!);
    const d = new Decoder(r.get());
    const resp = HttpResponse.decode(d);
    if (d.error() != null) return decodeError<HttpResponse>("HttpClient.Request", d);
    return Result.ok(resp);
  }
}

// log writes text to the host log at a level: debug, info, warn or error
// (claim spore:logging, no link).
export function log(level: string, text: string): Error | null {
  return done(call("", "spore:logging", "Logging.Write", encode(new LogEntry(level, text))));
}

// callActor calls an operation on another actor, named by id or call alias
// (claim spore:actor), with a raw payload.
export function callActor(actor: string, operation: string, payload: ArrayBuffer): Result<ArrayBuffer> {
  return hostCall("", actor, operation, payload);
}
