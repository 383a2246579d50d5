//! Calls every typed helper of the Rust SDK once, for test/languages:
//! Contracts.Run reports what each call returned, one line per call, and
//! Messaging.HandleMessage echoes the message it gets.

#[path = "../../../../actors/rust/spore.rs"]
pub mod spore;

use spore::{Level, OutboundRequest, Result};

#[no_mangle]
pub extern "C" fn wapc_init() {
    spore::handle("Contracts.Run", |_| run().map(String::into_bytes));
    spore::handle_message(|m| {
        Ok(format!("{}|{}|{}", m.subject, m.reply_to, String::from_utf8_lossy(&m.body)).into_bytes())
    });
}

fn run() -> Result<String> {
    let mut out = Vec::new();
    let kv = spore::key_value("");
    let v = kv.get("k")?;
    out.push(format!("get {} {}", String::from_utf8_lossy(v.as_deref().unwrap_or_default()), v.is_some()));
    kv.set("k", b"v", 7)?;
    out.push("set".to_string());
    out.push(format!("delete {}", kv.delete("k")?));
    out.push(format!("exists {}", kv.exists("k")?));
    out.push(format!("increment {}", kv.increment("n", -3)?));
    out.push(format!("keys {}", kv.keys("p")?.join(",")));
    let bus = spore::messaging("bus");
    bus.publish("s", "r", b"b")?;
    out.push("publish".to_string());
    let reply = bus.request("s", b"q", 250)?;
    out.push(format!("request {} {}", reply.subject, String::from_utf8_lossy(&reply.body)));
    let mut req = OutboundRequest { method: "GET".into(), url: "http://x/".into(), body: b"hb".to_vec(), ..Default::default() };
    req.header.insert("A".into(), vec!["1".into(), "2".into()]);
    let resp = spore::http_client("").request(&req)?;
    out.push(format!("http {} {} {}", resp.status, resp.header["B"][0], String::from_utf8_lossy(&resp.body)));
    spore::log(Level::Warn, "w")?;
    out.push("log".to_string());
    out.push(format!("call {}", String::from_utf8_lossy(&spore::call("other", "Ping", b"p")?)));
    out.push(format!("denied {}", kv.get("denied").unwrap_err()));
    Ok(out.join("\n"))
}
