#!/usr/bin/env bash
# bench/run.sh: run the host benchmarks of issue #2 (invoke and instantiate,
# against raw wazero and wapc-go) and write their section of
# docs/benchmarks.md, between <!-- host:begin --> and <!-- host:end -->.
# `make bench` runs it. About two minutes on two cores.
#
#   ROUNDS=5 BENCHTIME=200ms bench/run.sh
#
# Rounds are not -count: -count repeats each benchmark back to back, while
# -rounds (a flag of these benchmarks) runs every contender once per round, so
# the ratios compare runs taken seconds apart even when the machine's load
# changes. The raw output stays in build/bench/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${ROUNDS:-5}
benchtime=${BENCHTIME:-200ms}

for tool in go wat2wasm; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/run.sh: $tool not found; install the toolchains with 'make tools'" >&2
		exit 1
	fi
done

out=build/bench
mkdir -p "$out"
# bench/ is a module of its own (so that wapc-go stays out of Spore's go.mod)
# whose requirements follow the main module's through its replace directive.
(cd bench && go mod tidy && go build -o "../$out/report" ./cmd/report)

bench_cmd="go test -run '^\$' -bench . -benchtime $benchtime -rounds $rounds"
host_cmd="go test ./host -run '^\$' -bench Instantiate -benchtime $benchtime -rounds $rounds"
start=$SECONDS
echo "bench/run.sh: (cd bench && $bench_cmd)" >&2
(cd bench && go test -run '^$' -bench . -benchtime "$benchtime" -rounds "$rounds") | tee "$out/bench.txt"
echo "bench/run.sh: $host_cmd" >&2
go test ./host -run '^$' -bench Instantiate -benchtime "$benchtime" -rounds "$rounds" | tee "$out/host.txt"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- host bench 2>/dev/null; then
	commit="$commit with uncommitted changes to host/ or bench/"
fi
versions=$(cd bench && go list -m -f '{{.Path}} {{.Version}}' github.com/tetratelabs/wazero github.com/wapc/wapc-go |
	sed 's|^.*/||' | paste -sd ',' - | sed 's/,/, /g')

"$out/report" -doc docs/benchmarks.md \
	-command "cd bench && $bench_cmd
$host_cmd" \
	-commit "$commit" -versions "$versions" \
	"$out/bench.txt" "$out/host.txt"
echo "bench/run.sh: wrote docs/benchmarks.md in $((SECONDS - start))s of benchmarks; raw output in $out/" >&2
