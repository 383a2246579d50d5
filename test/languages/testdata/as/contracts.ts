// Calls every typed helper of Spore's AssemblyScript SDK once, for
// test/languages: Contracts.Run reports what each call returned, one line
// per call, and Messaging.HandleMessage echoes the message it gets.
import { register, handleCall, handleAbort, Result } from "@wapc/as-guest";
import {
  callActor, handleMessage, log, HttpClient, KeyValue, Message, Messaging, OutboundRequest,
} from "../../../../actors/assemblyscript/assembly";

register("Contracts.Run", run);
handleMessage(echo);

function str(b: ArrayBuffer): string {
  return String.UTF8.decode(b);
}

function fail(e: Error | null): Result<ArrayBuffer> {
  return Result.error<ArrayBuffer>(e!);
}

function run(payload: ArrayBuffer): Result<ArrayBuffer> {
  const out = new Array<string>();
  const kv = new KeyValue();
  const got = kv.get("k");
  if (!got.isOk) return fail(got.error());
  out.push("get " + str(got.get().value) + " " + (got.get().exists ? "true" : "false"));
  let err = kv.set("k", String.UTF8.encode("v"), 7);
  if (err) return fail(err);
  out.push("set");
  const deleted = kv.delete("k");
  if (!deleted.isOk) return fail(deleted.error());
  out.push("delete " + (deleted.get() ? "true" : "false"));
  const exists = kv.exists("k");
  if (!exists.isOk) return fail(exists.error());
  out.push("exists " + (exists.get() ? "true" : "false"));
  const n = kv.increment("n", -3);
  if (!n.isOk) return fail(n.error());
  out.push("increment " + n.get().toString());
  const keys = kv.keys("p");
  if (!keys.isOk) return fail(keys.error());
  out.push("keys " + keys.get().join(","));

  const bus = new Messaging("bus");
  err = bus.publish("s", "r", String.UTF8.encode("b"));
  if (err) return fail(err);
  out.push("publish");
  const reply = bus.request("s", String.UTF8.encode("q"), 250);
  if (!reply.isOk) return fail(reply.error());
  out.push("request " + reply.get().subject + " " + str(reply.get().body));

  const req = new OutboundRequest();
  req.url = "http://x/";
  req.header.set("A", ["1", "2"]);
  req.body = String.UTF8.encode("hb");
  const resp = new HttpClient().request(req);
  if (!resp.isOk) return fail(resp.error());
  out.push("http " + resp.get().status.toString() + " " + resp.get().header.get("B")[0] + " " + str(resp.get().body));

  err = log("warn", "w");
  if (err) return fail(err);
  out.push("log");
  const pong = callActor("other", "Ping", String.UTF8.encode("p"));
  if (!pong.isOk) return fail(pong.error());
  out.push("call " + str(pong.get()));
  const denied = kv.get("denied");
  if (denied.isOk) return fail(new Error("denied: the call succeeded"));
  out.push("denied " + denied.error()!.message);
  return Result.ok(String.UTF8.encode(out.join("\n")));
}

function echo(m: Message): Result<ArrayBuffer> {
  return Result.ok(String.UTF8.encode(m.subject + "|" + m.replyTo + "|" + str(m.body)));
}

export function __guest_call(operation_size: usize, payload_size: usize): bool {
  return handleCall(operation_size, payload_size);
}

function abort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  handleAbort(message, fileName, lineNumber, columnNumber);
}
