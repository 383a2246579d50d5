#!/usr/bin/env bash
# bench/apps.sh: measure declarative apps (issue #5) and write their section
# of docs/benchmarks.md, between <!-- apps:begin --> and <!-- apps:end -->:
#
#   - 3 host processes and 100 instances of one actor: deploy to every
#     instance placed and answering, kill -9 of a host to its share moved,
#     the host back to the spread restored (test/apps TestAppsSpeed);
#   - wazero's interpreter (what linux/arm hosts run) against its compiler
#     (test/apps/interp).
#
#   ROUNDS=5 bench/apps.sh
#
# About a minute and a half on two cores. Raw output stays in build/bench/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${ROUNDS:-5}
out=build/bench
mkdir -p "$out"
for tool in go wat2wasm; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/apps.sh: $tool not found; install the toolchains with 'make tools'" >&2
		exit 1
	fi
done

speed_cmd="SPORE_APPS_BENCH=$rounds go test ./test/apps -run TestAppsSpeed -v"
interp_cmd="go test ./test/apps/interp -run '^\$' -bench Compile -benchtime 5x; go test ./test/apps/interp -run '^\$' -bench 'Fib|Call'"
echo "bench/apps.sh: $speed_cmd" >&2
SPORE_APPS_BENCH=$rounds SPORE_APPS_BENCH_OUT="$root/$out/apps.md" \
	go test ./test/apps -run TestAppsSpeed -v -timeout 30m | grep -v '^        {' | tee "$out/apps.txt"
echo "bench/apps.sh: $interp_cmd" >&2
{
	go test ./test/apps/interp -run '^$' -bench Compile -benchtime 5x
	go test ./test/apps/interp -run '^$' -bench 'Fib|Call'
} | tee "$out/interp.txt"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- 'lattice/app*.go' cli/app.go 2>/dev/null; then
	commit="$commit with uncommitted changes to the apps code"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
# ns/op of one benchmark, as milliseconds or microseconds.
ns() { awk -v name="$1" '$1 ~ "^"name"(-[0-9]+)?$" { print $3 }' "$out/interp.txt"; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }
us() { awk -v n="$1" 'BEGIN { printf "%.0f ns", n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
cc=$(ns BenchmarkCompile/compiler); ci=$(ns BenchmarkCompile/interpreter)
fc=$(ns BenchmarkFib/compiler); fi_=$(ns BenchmarkFib/interpreter)
kc=$(ns BenchmarkCall/compiler); ki=$(ns BenchmarkCall/interpreter)

section=$(mktemp)
cat >"$section" <<MD
<!-- apps:begin -->
## Apps: placement, self-healing, and the interpreter

Written by \`bench/apps.sh\` at commit $commit on $(nproc) cores ($cpu),
$(date -u +%Y-%m-%d). Hosts are \`spore up\` processes on one machine, the
first running the embedded NATS server; the actor is \`host/testdata/echo.wat\`;
the reconciler runs with its defaults (heartbeat 2 s, host TTL 6 s, reconcile
every 1 s; docs/apps.md derives the bound).

    $speed_cmd

$(cat "$out/apps.md")

Self-healing is bounded by the host TTL: a host that stops answering keeps
its share until it has been silent for 6 s (so a slow host is not mistaken
for a dead one), then the next pass moves it. A host that comes back
announces itself, which wakes the reconciler at once.

**The interpreter** (\`wazero.NewRuntimeConfigInterpreter\`) is what wazero
runs on linux/arm (armv7), where it has no compiler; linux/arm64 and amd64
compile. Measured on this amd64 machine:

    $interp_cmd

| | compiler | interpreter | interpreter / compiler |
|---|---|---|---|
| compile a Go actor (examples/counter, 2 MB), once per actor per host | $(ms "$cc") | $(ms "$ci") | $(ratio "$ci" "$cc") |
| recursive fib(25) in the guest | $(ms "$fc") | $(ms "$fi_") | $(ratio "$fi_" "$fc") |
| one call into the guest and back (fib(1)) | $(us "$kc") | $(us "$ki") | $(ratio "$ki" "$kc") |

The interpreter starts actors sooner (it only validates and translates) but
runs guest code tens of times slower; host calls, providers and NATS are
native Go on every platform and cost the same.
<!-- apps:end -->
MD

doc=docs/benchmarks.md
if grep -q '<!-- apps:begin -->' "$doc"; then
	awk -v file="$section" '
		/<!-- apps:begin -->/ { while ((getline line < file) > 0) print line; skip = 1; next }
		/<!-- apps:end -->/ { skip = 0; next }
		!skip { print }
	' "$doc" >"$doc.tmp"
	mv "$doc.tmp" "$doc"
else
	{ echo; cat "$section"; } >>"$doc"
fi
rm -f "$section"
echo "bench/apps.sh: wrote the apps section of $doc" >&2
