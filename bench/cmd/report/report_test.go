package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is go test output as bench/run.sh collects it: two rounds, a -v
// progress line, and a custom metric.
const sample = `goos: linux
goarch: amd64
pkg: github.com/spore-run/spore/bench
cpu: Test CPU @ 1.00GHz
BenchmarkInvoke/raw/64B-2         	 1000000	       300.0 ns/op	      64 B/op	       1 allocs/op
BenchmarkInvoke/wapc-go/64B-2     	 1000000	       700.0 ns/op	     216 B/op	       5 allocs/op
BenchmarkInvoke/spore/64B-2       	  500000	      1800 ns/op	     240 B/op	       4 allocs/op
BenchmarkInvoke/spore-nodeadline/64B-2 	 1000000	       500.0 ns/op	      64 B/op	       1 allocs/op
BenchmarkInvoke/raw/64B#01-2      	 1000000	       320.0 ns/op	      64 B/op	       1 allocs/op
BenchmarkInvoke/wapc-go/64B#01-2  	 1000000	       680.0 ns/op	     216 B/op	       5 allocs/op
BenchmarkInvoke/spore/64B#01-2    	  500000	      1700 ns/op	     240 B/op	       4 allocs/op
BenchmarkInvoke/spore-nodeadline/64B#01-2 	 1000000	       520.0 ns/op	      64 B/op	       1 allocs/op
BenchmarkInstantiate/raw/hello-go
BenchmarkInstantiate/raw/hello-go-2 	      58	  17843019 ns/op	   3604480 linear-B	 8381194 B/op	   49126 allocs/op
BenchmarkInstantiate/spore/hello-go-2 	      64	  18793285 ns/op	   3604480 linear-B	10647301 B/op	   49157 allocs/op
PASS
ok  	github.com/spore-run/spore/bench	6.329s
`

func parseSample(t *testing.T) *results {
	t.Helper()
	var res results
	if err := res.parse(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	return &res
}

func TestBenchName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BenchmarkInvoke/raw/64B-2", "Invoke/raw/64B"},
		{"BenchmarkInvoke/raw/64B#03-2", "Invoke/raw/64B"},
		{"BenchmarkInvoke/spore-nodeadline/4KiB-16", "Invoke/spore-nodeadline/4KiB"},
		{"BenchmarkInstantiate/raw/hello-go", "Instantiate/raw/hello-go"}, // GOMAXPROCS=1: no suffix
	}
	for _, tt := range tests {
		if got := benchName(tt.in); got != tt.want {
			t.Errorf("benchName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	res := parseSample(t)
	want := []string{
		"Invoke/raw/64B", "Invoke/wapc-go/64B", "Invoke/spore/64B", "Invoke/spore-nodeadline/64B",
		"Instantiate/raw/hello-go", "Instantiate/spore/hello-go",
	}
	if strings.Join(res.names, ",") != strings.Join(want, ",") {
		t.Errorf("names = %q, want %q", res.names, want)
	}
	if res.cpu != "Test CPU @ 1.00GHz" || res.goos != "linux" || res.goarch != "amd64" || res.procs != 2 {
		t.Errorf("cpu %q, goos %q, goarch %q, procs %d", res.cpu, res.goos, res.goarch, res.procs)
	}
	if got := res.rounds(); got != 2 {
		t.Errorf("rounds = %d, want 2", got)
	}
	s := res.stat("Invoke/spore/64B")
	if s.median["ns/op"] != 1750 || s.median["allocs/op"] != 4 || s.min != 1700 || s.max != 1800 {
		t.Errorf("spore/64B = %+v", s)
	}
	if got := res.stat("Instantiate/spore/hello-go").median["linear-B"]; got != 3604480 {
		t.Errorf("linear-B = %v", got)
	}
	if res.stat("Invoke/none/64B") != nil {
		t.Error("stat of a missing benchmark is not nil")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 1, 1, 100}, 1},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSplice(t *testing.T) {
	block := "<!-- host:begin -->\nNEW\n<!-- host:end -->\n"
	tests := []struct {
		name, doc, want string
		fails           bool
	}{
		{"new file", "", docHeader + "\n" + block, false},
		{"append", "# Benchmarks\n\nintro\n", "# Benchmarks\n\nintro\n\n" + block, false},
		{"replace, keeping the others",
			"# B\n\n<!-- lattice:begin -->\nL\n<!-- lattice:end -->\n\n<!-- host:begin -->\nOLD\nOLD\n<!-- host:end -->\n\n<!-- kv:begin -->\nK\n<!-- kv:end -->\n",
			"# B\n\n<!-- lattice:begin -->\nL\n<!-- lattice:end -->\n\n" + block + "\n<!-- kv:begin -->\nK\n<!-- kv:end -->\n", false},
		{"end marker only", "x\n<!-- host:end -->\n", "", true},
		{"markers swapped", "<!-- host:end -->\n<!-- host:begin -->\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splice(tt.doc, "host", "NEW\n")
			if tt.fails {
				if err == nil {
					t.Fatalf("no error; got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtInt(0), "0"},
		{fmtInt(999), "999"},
		{fmtInt(1000), "1,000"},
		{fmtInt(17843019.4), "17,843,019"},
		{fmtInt(-1234), "-1,234"},
		{fmtNS(12.34), "12.3"},
		{fmtNS(4352), "4,352"},
		{fmtRatio(1.3449), "1.34x"},
		{fmtRatio(12.6), "13x"},
		{fmtDuration(812), "812 ns"},
		{fmtDuration(51509), "51.5 µs"},
		{fmtDuration(20755027), "20.8 ms"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestVerdicts(t *testing.T) {
	res := parseSample(t)
	v := strings.Join(verdicts(res), "\n")
	for _, want := range []string{
		// Only 64 B one-goroutine results exist: the 2x target has no data.
		"**Spore's invoke within 2x the raw floor: no data.**",
		"**Spore's invoke faster than wapc-go: no data.**",
		"**Allocations per invoke reported: met.** 64B: spore 4 (240 B)",
		"**Spore's instantiation within 1.5x raw: no data.**",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("verdicts lack %q:\n%s", want, v)
		}
	}
}

// TestRun writes a section into an existing doc and checks the table and
// the ratios.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	in, doc := filepath.Join(dir, "results.txt"), filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	other := "# Benchmarks\n\n<!-- lattice:begin -->\nL\n<!-- lattice:end -->\n"
	if err := os.WriteFile(doc, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(doc, []string{in}, meta{command: "make bench", versions: "wazero v1"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		other + "\n<!-- host:begin -->\n## Host: invoke and instantiate\n",
		"| 64B | raw | 310 | 6% | 64 | 1 | 1 |",
		"| 64B | spore | 1,750 | 6% | 240 | 4 | 5.65x |",
		"| hello-go | spore | 18,793,285 | 0% | 10,647,301 | 49,157 | 3,604,480 | 1.05x |",
		"median of 2 rounds",
		"<!-- host:end -->\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("doc lacks %q:\n%s", want, got)
		}
	}
}
