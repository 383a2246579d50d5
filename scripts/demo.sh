#!/usr/bin/env bash
# scripts/demo.sh: the main job on the embedded default. Starts one host with
# its embedded NATS (JetStream in build/demo/data), builds and signs the hello
# actor, starts it with the HTTP server provider linked to 127.0.0.1:8080, and
# answers one request to show it works. It then keeps serving until Ctrl-C,
# unless DEMO_EXIT=1 (used by the tests).
#
#   make demo                 # or: scripts/demo.sh
#   curl 'http://127.0.0.1:8080/hi?name=you'
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=build/demo
port=${DEMO_PORT:-8080}
nats_port=${DEMO_NATS_PORT:-4222}
export SPORE_HOME="$root/$work/home"
export SPORE_NATS="nats://127.0.0.1:$nats_port"
spore=bin/spore
mkdir -p "$work"

say() { printf '\033[1m> %s\033[0m\n' "$*" >&2; }

say "building spore and the hello actor"
go build -o "$spore" ./cmd/spore
(cd examples/hello && GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o "$root/$work/hello.wasm" .)
"$spore" sign "$work/hello.wasm" -o "$work/hello_s.wasm" --name hello --cap spore:httpserver --cap spore:logging >/dev/null

say "starting a host with its embedded NATS on 127.0.0.1:$nats_port"
"$spore" up --nats-listen "127.0.0.1:$nats_port" --data-dir "$work/data" --leaf-listen "" >"$work/host.log" 2>&1 &
host=$!
trap 'kill $host 2>/dev/null; wait $host 2>/dev/null' EXIT
for _ in $(seq 100); do
	"$spore" host ls -o json >/dev/null 2>&1 && break
	kill -0 $host 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
	sleep 0.1
done

say "starting the hello actor and the HTTP server provider"
"$spore" actor start "$work/hello_s.wasm"
"$spore" provider start httpserver
"$spore" link put hello spore:httpserver --provider httpserver "address=127.0.0.1:$port"

say "GET http://127.0.0.1:$port/hi?name=spore"
for _ in $(seq 50); do
	curl -fsS "http://127.0.0.1:$port/hi?name=spore" && break
	sleep 0.1
done

if [ "${DEMO_EXIT:-0}" = 1 ]; then
	exit 0
fi
say "serving on http://127.0.0.1:$port (host log: $work/host.log); Ctrl-C stops"
wait $host
