//! The counter actor in Rust: every HTTP request adds one to a counter kept
//! in the key-value store under the request's path, and the answer is the new
//! count as JSON, {"count":N}.
//!
//! rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -C opt-level=s \
//!     -C panic=abort -C lto -C strip=symbols -C link-arg=-zstack-size=65536 -o counter.wasm counter.rs

#[path = "../../actors/rust/spore.rs"]
pub mod spore;

use spore::HttpResponse;

/// The host runs wapc_init once per instance, before the first call.
#[no_mangle]
pub extern "C" fn wapc_init() {
    spore::handle_http(|req| {
        let n = spore::key_value("").increment(&req.path, 1)?;
        Ok(HttpResponse::new(200, "application/json", format!("{{\"count\":{}}}", n)))
    });
}
