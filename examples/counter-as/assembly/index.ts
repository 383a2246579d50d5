// The counter actor in AssemblyScript: every HTTP request adds one to a
// counter kept in the key-value store under the request's path, and the
// answer is the new count as JSON, {"count":N}.
//
// The waPC side is the standard @wapc/as-guest package (handleCall,
// handleAbort, Result); the contracts are Spore's helpers in
// actors/assemblyscript. Build it with `make build/examples/counter-as.wasm`
// or see actors/assemblyscript/README.md.
import { handleCall, handleAbort, Result } from "@wapc/as-guest";
import { handleHttp, HttpRequest, HttpResponse, KeyValue } from "../../../actors/assemblyscript/assembly";

// Top-level code runs once per instance (the host calls _initialize).
handleHttp(count);

function count(req: HttpRequest): Result<HttpResponse> {
  const n = new KeyValue().increment(req.path, 1);
  if (!n.isOk) return Result.error<HttpResponse>(n.error()!);
  return Result.ok(HttpResponse.json(200, '{"count":' + n.get().toString() + "}"));
}

// The two functions @wapc/as-guest asks every entry file for.
export function __guest_call(operation_size: usize, payload_size: usize): bool {
  return handleCall(operation_size, payload_size);
}

function abort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  handleAbort(message, fileName, lineNumber, columnNumber);
}
