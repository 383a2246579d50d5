//! The Rust guest SDK for Spore actors: one file, no crates, for rustc
//! alone (Debian's rustc and `libstd-rust-dev-wasm32` are enough).
//!
//! Put this file next to your actor and declare it as a module; build the
//! actor as a `cdylib` for `wasm32-wasi`:
//!
//! ```text
//! // counter.rs
//! #[path = "spore.rs"]
//! pub mod spore;
//!
//! #[no_mangle]
//! pub extern "C" fn wapc_init() {
//!     spore::handle_http(|req| { ... });
//! }
//!
//! rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -C opt-level=s \
//!     -C panic=abort -C lto -C strip=symbols -C link-arg=-zstack-size=65536 -o counter.wasm counter.rs
//! ```
//!
//! The host runs the actor's exported `wapc_init` once per instance (SPEC
//! section 3): register handlers there with [`handle`], [`handle_http`] or
//! [`handle_message`]. This module exports `__guest_call`: the host names an
//! operation and hands over a payload, the handler registered for it runs,
//! and its response (or its error, as text) goes back. Handlers reach the
//! world only through host calls: [`host_call`] raw, or the typed helpers
//! [`key_value`], [`messaging`], [`http_client`], [`log`] and [`call`], which
//! encode and decode the MessagePack payloads of SPEC section 5 (see
//! wit/README.md) with the small codec in [`mp`].
//!
//! Off Wasm (cargo test, rustc --test) host calls fail with "no host", so the
//! codec and pure logic can be tested natively.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// An error: a host call the host refused or a provider failed, a payload
/// that did not decode, or a handler's own failure. Its text is what the
/// caller of a failed call sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<&str> for Error {
    fn from(s: &str) -> Self {
        Error(s.to_string())
    }
}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error(s)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Header fields, name to values.
pub type Header = BTreeMap<String, Vec<String>>;

/// Payload of HttpServer.HandleRequest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// Starts with "/", without the query.
    pub path: String,
    /// Without the "?".
    pub query: String,
    pub header: Header,
    pub body: Vec<u8>,
}

/// Answer of HttpServer.HandleRequest and of HttpClient.Request. A status of
/// 0 in a handler's response means 200.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub header: Header,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status, one Content-Type and a body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut header = Header::new();
        header.insert("Content-Type".to_string(), vec![content_type.to_string()]);
        HttpResponse { status, header, body: body.into() }
    }
}

/// Payload of HttpClient.Request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: String,
    /// An absolute http or https URL.
    pub url: String,
    pub header: Header,
    pub body: Vec<u8>,
}

/// A message, as Messaging.HandleMessage delivers it and Messaging.Request
/// answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    /// "" for none.
    pub reply_to: String,
    pub body: Vec<u8>,
}

// ---- handlers ----

type Handler = Box<dyn Fn(&[u8]) -> Result<Vec<u8>>>;

thread_local! {
    // Written by wapc_init, read by calls; a Wasm instance has one thread.
    static HANDLERS: RefCell<BTreeMap<String, std::rc::Rc<Handler>>> = RefCell::new(BTreeMap::new());
}

/// Registers a handler for an operation; a later one for the same operation
/// replaces it.
pub fn handle(operation: &str, h: impl Fn(&[u8]) -> Result<Vec<u8>> + 'static) {
    HANDLERS.with(|m| m.borrow_mut().insert(operation.to_string(), std::rc::Rc::new(Box::new(h))));
}

/// Registers the handler of HttpServer.HandleRequest (contract
/// spore:httpserver).
pub fn handle_http(h: impl Fn(&HttpRequest) -> Result<HttpResponse> + 'static) {
    handle("HttpServer.HandleRequest", move |payload| {
        let req = decode_http_request(payload)
            .map_err(|e| Error(format!("spore: HttpServer.HandleRequest: decode request: {}", e)))?;
        let mut resp = h(&req)?;
        if resp.status == 0 {
            resp.status = 200;
        }
        Ok(encode_http_response(&resp))
    });
}

/// Registers the handler of Messaging.HandleMessage (contract
/// spore:messaging); what it returns is the reply body (sent when the
/// message has a reply subject; may be empty).
pub fn handle_message(h: impl Fn(&Message) -> Result<Vec<u8>> + 'static) {
    handle("Messaging.HandleMessage", move |payload| {
        let msg = decode_message(&mut mp::Reader::new(payload))
            .map_err(|e| Error(format!("spore: Messaging.HandleMessage: decode message: {}", e)))?;
        h(&msg)
    });
}

/// Runs the handler registered for an operation, as a call from the host
/// would. Tests use it natively.
pub fn dispatch(operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
    let h = HANDLERS.with(|m| m.borrow().get(operation).cloned());
    match h {
        Some(h) => h(payload),
        None => Err(Error(format!("no handler for operation {}", operation))),
    }
}

// ---- the waPC ABI (SPEC section 3) ----

#[cfg(target_arch = "wasm32")]
mod abi {
    #[link(wasm_import_module = "wapc")]
    extern "C" {
        pub fn __guest_request(op_ptr: *mut u8, msg_ptr: *mut u8);
        pub fn __guest_response(ptr: *const u8, len: usize);
        pub fn __guest_error(ptr: *const u8, len: usize);
        pub fn __host_call(
            bd_ptr: *const u8,
            bd_len: usize,
            ns_ptr: *const u8,
            ns_len: usize,
            op_ptr: *const u8,
            op_len: usize,
            ptr: *const u8,
            len: usize,
        ) -> usize;
        pub fn __host_response_len() -> usize;
        pub fn __host_response(ptr: *mut u8);
        pub fn __host_error_len() -> usize;
        pub fn __host_error(ptr: *mut u8);
        pub fn __console_log(ptr: *const u8, len: usize);
    }

    #[no_mangle]
    pub extern "C" fn __guest_call(op_len: usize, msg_len: usize) -> usize {
        let mut op = vec![0u8; op_len];
        let mut msg = vec![0u8; msg_len];
        unsafe { __guest_request(op.as_mut_ptr(), msg.as_mut_ptr()) };
        let op = String::from_utf8_lossy(&op);
        match super::dispatch(&op, &msg) {
            Ok(out) => {
                unsafe { __guest_response(out.as_ptr(), out.len()) };
                1
            }
            Err(e) => {
                unsafe { __guest_error(e.0.as_ptr(), e.0.len()) };
                0
            }
        }
    }

    pub fn host_call(binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let ok = unsafe {
            __host_call(
                binding.as_ptr(),
                binding.len(),
                namespace.as_ptr(),
                namespace.len(),
                operation.as_ptr(),
                operation.len(),
                payload.as_ptr(),
                payload.len(),
            )
        };
        if ok != 1 {
            let mut e = vec![0u8; unsafe { __host_error_len() }];
            unsafe { __host_error(e.as_mut_ptr()) };
            return Err(String::from_utf8_lossy(&e).into_owned());
        }
        let mut out = vec![0u8; unsafe { __host_response_len() }];
        unsafe { __host_response(out.as_mut_ptr()) };
        Ok(out)
    }

    pub fn console_log(text: &str) {
        unsafe { __console_log(text.as_ptr(), text.len()) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod abi {
    pub fn host_call(_: &str, _: &str, _: &str, _: &[u8]) -> Result<Vec<u8>, String> {
        Err("no host: host calls work only in Wasm".to_string())
    }

    pub fn console_log(text: &str) {
        eprintln!("actor console: {}", text);
    }
}

/// Calls operation on namespace (a contract id, or an actor's id or call
/// alias) through the link named binding ("" for the default link), with a
/// raw payload.
pub fn host_call(binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
    abi::host_call(binding, namespace, operation, payload).map_err(Error)
}

/// Writes a line to the host log through __console_log (no claim needed).
pub fn console_log(text: &str) {
    abi::console_log(text)
}

/// Calls an operation on another actor, named by id or call alias (claim
/// spore:actor).
pub fn call(actor: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
    host_call("", actor, operation, payload)
}

/// invoke sends an encoded payload to a contract and decodes the response.
fn invoke<T>(
    link: &str,
    contract: &str,
    op: &str,
    payload: mp::Writer,
    decode: impl FnOnce(&mut mp::Reader) -> Result<T>,
) -> Result<T> {
    let resp = host_call(link, contract, op, &payload.into_bytes())?;
    decode(&mut mp::Reader::new(&resp)).map_err(|e| Error(format!("spore: {}: decode response: {}", op, e)))
}

fn map(n: u32) -> mp::Writer {
    let mut w = mp::Writer::new();
    w.map(n);
    w
}

fn string(s: &str) -> mp::Writer {
    let mut w = mp::Writer::new();
    w.str(s);
    w
}

// ---- spore:keyvalue ----

/// The key-value store linked under a link name (claim spore:keyvalue and a
/// link needed).
pub struct KeyValue<'a> {
    link: &'a str,
}

/// The key-value store linked under link ("" for the default link).
pub fn key_value(link: &str) -> KeyValue<'_> {
    KeyValue { link }
}

const KV: &str = "spore:keyvalue";

impl KeyValue<'_> {
    /// The value of key, or None when the key does not exist.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        invoke(self.link, KV, "KeyValue.Get", string(key), |r| {
            let (mut value, mut exists) = (Vec::new(), false);
            for _ in 0..r.map()? {
                match r.str()?.as_str() {
                    "value" => value = r.bytes()?,
                    "exists" => exists = r.bool()?,
                    _ => r.skip()?,
                }
            }
            Ok(if exists { Some(value) } else { None })
        })
    }

    /// Stores value under key; ttl_seconds 0 means no expiry.
    pub fn set(&self, key: &str, value: &[u8], ttl_seconds: u32) -> Result<()> {
        let mut w = map(3);
        w.str("key");
        w.str(key);
        w.str("value");
        w.bin(value);
        w.str("ttl_seconds");
        w.int(ttl_seconds as i64);
        invoke(self.link, KV, "KeyValue.Set", w, |_| Ok(()))
    }

    /// Removes key; true if it existed.
    pub fn delete(&self, key: &str) -> Result<bool> {
        invoke(self.link, KV, "KeyValue.Delete", string(key), |r| r.bool())
    }

    /// Whether key exists.
    pub fn exists(&self, key: &str) -> Result<bool> {
        invoke(self.link, KV, "KeyValue.Exists", string(key), |r| r.bool())
    }

    /// Adds delta to the integer under key (a missing key counts as 0) and
    /// returns the new value.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let mut w = map(2);
        w.str("key");
        w.str(key);
        w.str("delta");
        w.int(delta);
        invoke(self.link, KV, "KeyValue.Increment", w, |r| r.int())
    }

    /// The keys that start with prefix ("" for all).
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        invoke(self.link, KV, "KeyValue.Keys", string(prefix), |r| {
            let n = r.array()?;
            (0..n).map(|_| r.str()).collect()
        })
    }
}

// ---- spore:messaging ----

/// The message broker linked under a link name (claim spore:messaging and a
/// link needed).
pub struct Messaging<'a> {
    link: &'a str,
}

/// The message broker linked under link ("" for the default link).
pub fn messaging(link: &str) -> Messaging<'_> {
    Messaging { link }
}

const MSG: &str = "spore:messaging";

impl Messaging<'_> {
    /// Sends body on subject; reply_to may be "".
    pub fn publish(&self, subject: &str, reply_to: &str, body: &[u8]) -> Result<()> {
        let mut w = map(3);
        w.str("subject");
        w.str(subject);
        w.str("reply_to");
        w.str(reply_to);
        w.str("body");
        w.bin(body);
        invoke(self.link, MSG, "Messaging.Publish", w, |_| Ok(()))
    }

    /// Sends body on subject and waits up to timeout_ms (0: the provider's
    /// default) for one reply.
    pub fn request(&self, subject: &str, body: &[u8], timeout_ms: u32) -> Result<Message> {
        let mut w = map(3);
        w.str("subject");
        w.str(subject);
        w.str("body");
        w.bin(body);
        w.str("timeout_ms");
        w.int(timeout_ms as i64);
        invoke(self.link, MSG, "Messaging.Request", w, decode_message)
    }
}

fn decode_message(r: &mut mp::Reader) -> Result<Message> {
    let mut m = Message::default();
    for _ in 0..r.map()? {
        match r.str()?.as_str() {
            "subject" => m.subject = r.str()?,
            "reply_to" => m.reply_to = r.str()?,
            "body" => m.body = r.bytes()?,
            _ => r.skip()?,
        }
    }
    Ok(m)
}

// ---- spore:httpserver and spore:httpclient ----

fn decode_header(r: &mut mp::Reader) -> Result<Header> {
    let mut h = Header::new();
    for _ in 0..r.map()? {
        let name = r.str()?;
        let n = r.array()?;
        let values = (0..n).map(|_| r.str()).collect::<Result<Vec<_>>>()?;
        h.insert(name, values);
    }
    Ok(h)
}

fn encode_header(w: &mut mp::Writer, h: &Header) {
    w.map(h.len() as u32);
    for (name, values) in h {
        w.str(name);
        w.array(values.len() as u32);
        for v in values {
            w.str(v);
        }
    }
}

/// Decodes the payload of HttpServer.HandleRequest.
pub fn decode_http_request(payload: &[u8]) -> Result<HttpRequest> {
    let r = &mut mp::Reader::new(payload);
    let mut req = HttpRequest::default();
    for _ in 0..r.map()? {
        match r.str()?.as_str() {
            "method" => req.method = r.str()?,
            "path" => req.path = r.str()?,
            "query" => req.query = r.str()?,
            "header" => req.header = decode_header(r)?,
            "body" => req.body = r.bytes()?,
            _ => r.skip()?,
        }
    }
    Ok(req)
}

/// Encodes the answer of HttpServer.HandleRequest.
pub fn encode_http_response(resp: &HttpResponse) -> Vec<u8> {
    let mut w = map(3);
    w.str("status");
    w.int(resp.status as i64);
    w.str("header");
    encode_header(&mut w, &resp.header);
    w.str("body");
    w.bin(&resp.body);
    w.into_bytes()
}

/// The outbound HTTP client linked under a link name (claim
/// spore:httpclient and a link whose allowed_hosts lists the hosts).
pub struct HttpClient<'a> {
    link: &'a str,
}

/// The HTTP client linked under link ("" for the default link).
pub fn http_client(link: &str) -> HttpClient<'_> {
    HttpClient { link }
}

impl HttpClient<'_> {
    /// Sends req; any status is a response, errors are for requests that got
    /// none.
    pub fn request(&self, req: &OutboundRequest) -> Result<HttpResponse> {
        let mut w = map(4);
        w.str("method");
        w.str(&req.method);
        w.str("url");
        w.str(&req.url);
        w.str("header");
        encode_header(&mut w, &req.header);
        w.str("body");
        w.bin(&req.body);
        invoke(self.link, "spore:httpclient", "HttpClient.Request", w, |r| {
            let mut resp = HttpResponse::default();
            for _ in 0..r.map()? {
                match r.str()?.as_str() {
                    "status" => resp.status = r.int()? as u16,
                    "header" => resp.header = decode_header(r)?,
                    "body" => resp.body = r.bytes()?,
                    _ => r.skip()?,
                }
            }
            Ok(resp)
        })
    }
}

// ---- spore:logging ----

/// Log levels of Logging.Write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes text to the host log at level (claim spore:logging, no link).
pub fn log(level: Level, text: &str) -> Result<()> {
    let mut w = map(2);
    w.str("level");
    w.str(level.as_str());
    w.str("text");
    w.str(text);
    invoke("", "spore:logging", "Logging.Write", w, |_| Ok(()))
}

/// Logs at info; if Logging.Write is refused, the line goes to
/// [`console_log`] instead. [`debug`], [`warn`] and [`error`] are alike.
pub fn info(text: &str) {
    log_or_console(Level::Info, text)
}

pub fn debug(text: &str) {
    log_or_console(Level::Debug, text)
}

pub fn warn(text: &str) {
    log_or_console(Level::Warn, text)
}

pub fn error(text: &str) {
    log_or_console(Level::Error, text)
}

fn log_or_console(level: Level, text: &str) {
    if log(level, text).is_err() {
        console_log(&format!("{}: {}", level.as_str(), text));
    }
}

/// MessagePack, as much as the contracts need: maps, arrays, str, bin,
/// integers, bools and nil. Writers pick the smallest format; readers take
/// every integer format and read nil as empty.
pub mod mp {
    use super::{Error, Result};

    #[derive(Default)]
    pub struct Writer {
        buf: Vec<u8>,
    }

    impl Writer {
        pub fn new() -> Self {
            Writer { buf: Vec::with_capacity(64) }
        }

        pub fn into_bytes(self) -> Vec<u8> {
            self.buf
        }

        fn head(&mut self, n: u32, fix: u8, fix_max: u32, f8: u8, f16: u8) {
            if n < fix_max {
                self.buf.push(fix | n as u8);
            } else if f8 != 0 && n < 256 {
                self.buf.extend_from_slice(&[f8, n as u8]);
            } else if n < 65536 {
                self.buf.push(f16);
                self.buf.extend_from_slice(&(n as u16).to_be_bytes());
            } else {
                self.buf.push(f16 + 1);
                self.buf.extend_from_slice(&n.to_be_bytes());
            }
        }

        pub fn map(&mut self, n: u32) {
            self.head(n, 0x80, 16, 0, 0xde)
        }

        pub fn array(&mut self, n: u32) {
            self.head(n, 0x90, 16, 0, 0xdc)
        }

        pub fn str(&mut self, s: &str) {
            self.head(s.len() as u32, 0xa0, 32, 0xd9, 0xda);
            self.buf.extend_from_slice(s.as_bytes());
        }

        pub fn bin(&mut self, b: &[u8]) {
            self.head(b.len() as u32, 0, 0, 0xc4, 0xc5);
            self.buf.extend_from_slice(b);
        }

        pub fn bool(&mut self, v: bool) {
            self.buf.push(if v { 0xc3 } else { 0xc2 })
        }

        pub fn nil(&mut self) {
            self.buf.push(0xc0)
        }

        pub fn int(&mut self, v: i64) {
            let b = &mut self.buf;
            if v >= 0 {
                match v {
                    0..=127 => b.push(v as u8),
                    128..=255 => b.extend_from_slice(&[0xcc, v as u8]),
                    256..=65535 => {
                        b.push(0xcd);
                        b.extend_from_slice(&(v as u16).to_be_bytes())
                    }
                    65536..=4294967295 => {
                        b.push(0xce);
                        b.extend_from_slice(&(v as u32).to_be_bytes())
                    }
                    _ => {
                        b.push(0xcf);
                        b.extend_from_slice(&(v as u64).to_be_bytes())
                    }
                }
            } else if v >= -32 {
                b.push(v as u8)
            } else if v >= -128 {
                b.extend_from_slice(&[0xd0, v as u8])
            } else if v >= -32768 {
                b.push(0xd1);
                b.extend_from_slice(&(v as i16).to_be_bytes())
            } else if v >= -2147483648 {
                b.push(0xd2);
                b.extend_from_slice(&(v as i32).to_be_bytes())
            } else {
                b.push(0xd3);
                b.extend_from_slice(&v.to_be_bytes())
            }
        }
    }

    pub struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    fn short() -> Error {
        Error::from("MessagePack: unexpected end of input")
    }

    fn bad(what: &str, b: u8) -> Error {
        Error(format!("MessagePack: want {}, found format 0x{:02x}", what, b))
    }

    impl<'a> Reader<'a> {
        pub fn new(buf: &'a [u8]) -> Self {
            Reader { buf, pos: 0 }
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8]> {
            if self.buf.len() - self.pos < n {
                return Err(short());
            }
            let s = &self.buf[self.pos..self.pos + n];
            self.pos += n;
            Ok(s)
        }

        fn u8(&mut self) -> Result<u8> {
            Ok(self.take(1)?[0])
        }

        fn be(&mut self, n: usize) -> Result<u64> {
            Ok(self.take(n)?.iter().fold(0u64, |v, &b| v << 8 | b as u64))
        }

        fn container(&mut self, what: &str, fix: u8, f16: u8) -> Result<u32> {
            let b = self.u8()?;
            let n = match b {
                _ if b & 0xf0 == fix => (b & 0x0f) as u32,
                _ if b == f16 => self.be(2)? as u32,
                _ if b == f16 + 1 => self.be(4)? as u32,
                0xc0 => 0,
                _ => return Err(bad(what, b)),
            };
            // Every element takes a byte at least: refuse counts the input
            // cannot hold before anyone allocates for them.
            if n as usize > self.buf.len() - self.pos {
                return Err(short());
            }
            Ok(n)
        }

        /// A map's number of pairs (nil is 0).
        pub fn map(&mut self) -> Result<u32> {
            self.container("a map", 0x80, 0xde)
        }

        /// An array's length (nil is 0).
        pub fn array(&mut self) -> Result<u32> {
            self.container("an array", 0x90, 0xdc)
        }

        /// A str or bin (nil is empty), without a copy.
        pub fn raw(&mut self) -> Result<&'a [u8]> {
            let b = self.u8()?;
            let n = match b {
                0xa0..=0xbf => (b & 0x1f) as usize,
                0xd9..=0xdb => self.be(1 << (b - 0xd9))? as usize,
                0xc4..=0xc6 => self.be(1 << (b - 0xc4))? as usize,
                0xc0 => 0,
                _ => return Err(bad("a string", b)),
            };
            self.take(n)
        }

        pub fn bytes(&mut self) -> Result<Vec<u8>> {
            Ok(self.raw()?.to_vec())
        }

        pub fn str(&mut self) -> Result<String> {
            String::from_utf8(self.raw()?.to_vec()).map_err(|_| Error::from("MessagePack: a string is not UTF-8"))
        }

        pub fn int(&mut self) -> Result<i64> {
            let b = self.u8()?;
            Ok(match b {
                0x00..=0x7f | 0xe0..=0xff => b as i8 as i64,
                0xcc..=0xcf => {
                    let v = self.be(1 << (b - 0xcc))?;
                    if v > i64::MAX as u64 {
                        return Err(Error::from("MessagePack: integer overflows i64"));
                    }
                    v as i64
                }
                0xd0 => self.be(1)? as i8 as i64,
                0xd1 => self.be(2)? as i16 as i64,
                0xd2 => self.be(4)? as i32 as i64,
                0xd3 => self.be(8)? as i64,
                _ => return Err(bad("an integer", b)),
            })
        }

        /// true or false (nil is false).
        pub fn bool(&mut self) -> Result<bool> {
            match self.u8()? {
                0xc3 => Ok(true),
                0xc2 | 0xc0 => Ok(false),
                b => Err(bad("a bool", b)),
            }
        }

        /// Passes over one value of any type: readers skip the keys they do
        /// not know.
        pub fn skip(&mut self) -> Result<()> {
            self.skip_at(0)
        }

        fn skip_at(&mut self, depth: u32) -> Result<()> {
            // Bound the nesting followed, so a forged payload cannot run the
            // stack out.
            if depth > 64 {
                return Err(Error::from("MessagePack: nested too deep"));
            }
            let b = self.u8()?;
            let (bytes, values) = match b {
                0x00..=0x7f | 0xe0..=0xff | 0xc0..=0xc3 => (0, 0),
                0x80..=0x8f => (0, 2 * (b & 0x0f) as u64),
                0x90..=0x9f => (0, (b & 0x0f) as u64),
                0xa0..=0xbf => ((b & 0x1f) as u64, 0),
                0xc4..=0xc6 => (self.be(1 << (b - 0xc4))?, 0),
                0xd9..=0xdb => (self.be(1 << (b - 0xd9))?, 0),
                0xc7..=0xc9 => (self.be(1 << (b - 0xc7))? + 1, 0),
                0xca => (4, 0),
                0xcb => (8, 0),
                0xcc..=0xd3 => (1 << ((b - 0xcc) & 3), 0),
                0xd4..=0xd8 => ((1 << (b - 0xd4)) + 1, 0),
                0xdc => (0, self.be(2)?),
                0xdd => (0, self.be(4)?),
                0xde => (0, 2 * self.be(2)?),
                _ => (0, 2 * self.be(4)?), // 0xdf
            };
            if bytes > (self.buf.len() - self.pos) as u64 {
                return Err(short());
            }
            self.pos += bytes as usize;
            for _ in 0..values {
                self.skip_at(depth + 1)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_round_trip() {
        for v in [0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 32, i64::MAX, -1, -32, -33, -128, -129, -32768, -32769, i64::MIN] {
            let mut w = mp::Writer::new();
            w.int(v);
            let b = w.into_bytes();
            assert_eq!(mp::Reader::new(&b).int().unwrap(), v, "{} as {:02x?}", v, b);
        }
    }

    #[test]
    fn http_round_trip() {
        let mut header = Header::new();
        header.insert("Accept".into(), vec!["a".into(), "b".into()]);
        let resp = HttpResponse { status: 201, header, body: b"made".to_vec() };
        let b = encode_http_response(&resp);
        let r = &mut mp::Reader::new(&b);
        assert_eq!(r.map().unwrap(), 3);
        assert_eq!(r.str().unwrap(), "status");
        assert_eq!(r.int().unwrap(), 201);
        assert_eq!(r.str().unwrap(), "header");
        assert_eq!(decode_header(r).unwrap(), resp.header);
    }

    #[test]
    fn skips_unknown_keys() {
        let mut w = map(3);
        w.str("extra");
        w.array(2);
        w.int(-70000);
        w.bin(b"x");
        w.str("path");
        w.str("/a");
        w.str("body");
        w.nil();
        let req = decode_http_request(&w.into_bytes()).unwrap();
        assert_eq!(req.path, "/a");
        assert!(req.body.is_empty());
    }

    #[test]
    fn refuses_deep_nesting() {
        let mut b = vec![0x81, 0xa1, b'x'];
        b.extend(std::iter::repeat(0x91).take(100));
        b.push(0xc0);
        assert!(decode_http_request(&b).is_err());
    }

    #[test]
    fn refuses_bad_input() {
        for b in [&[0x81u8][..], &[0xdf, 0xff, 0xff, 0xff, 0xff], &[0xc1], &[0xda, 0x00]] {
            assert!(decode_http_request(b).is_err(), "{:02x?}", b);
        }
    }

    #[test]
    fn dispatches() {
        handle_http(|req| Ok(HttpResponse::new(0, "text/plain", req.path.clone())));
        let mut w = map(1);
        w.str("path");
        w.str("/p");
        let out = dispatch("HttpServer.HandleRequest", &w.into_bytes()).unwrap();
        let r = &mut mp::Reader::new(&out);
        r.map().unwrap();
        r.str().unwrap();
        assert_eq!(r.int().unwrap(), 200);
        assert_eq!(dispatch("Nope", b"").unwrap_err().0, "no handler for operation Nope");
        assert_eq!(key_value("").increment("k", 1).unwrap_err().0, "no host: host calls work only in Wasm");
    }
}
