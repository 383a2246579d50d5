#!/usr/bin/env bash
# scripts/fuzz.sh: run every Go fuzz target in the module for a while each.
#
#   scripts/fuzz.sh 30s        # make fuzz FUZZTIME=30s
#
# Each target runs alone (go test allows one -fuzz target per run). New
# failing inputs land in the package's testdata/fuzz/ and fail `make test`
# from then on, until fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${1:-10s}

failed=0
while IFS= read -r line; do
	file=${line%%:*}
	target=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+)\(.*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	echo "== $pkg $target ($fuzztime)"
	if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"; then
		failed=1
	fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | grep -v '/node_modules/' | sort)
exit $failed
