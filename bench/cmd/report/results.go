package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results holds every sample of a `go test -bench` output, by benchmark.
type results struct {
	names   []string           // in order of first appearance
	samples map[string][]units // by name: one entry per run
	cpu     string             // from the "cpu:" line
	goos    string
	goarch  string
	procs   int // GOMAXPROCS, from the names' suffix; 0 if none
}

// units maps a unit ("ns/op", "B/op", "allocs/op", or a custom metric) to
// its value in one run.
type units map[string]float64

var (
	procsSuffix = regexp.MustCompile(`-\d+$`) // the GOMAXPROCS go test appends
	dupSuffix   = regexp.MustCompile(`#\d+$`) // go test's suffix for a repeated name
)

// benchName turns "BenchmarkInvoke/raw/64B#03-2" into "Invoke/raw/64B": the
// rounds of one sub-benchmark share a name.
func benchName(s string) string {
	s = strings.TrimPrefix(s, "Benchmark")
	s = procsSuffix.ReplaceAllString(s, "")
	return dupSuffix.ReplaceAllString(s, "")
}

// parse adds the benchmark lines of r to res. Lines that are not results
// (progress lines under -v, PASS, ok, logs) are skipped.
func (res *results) parse(r io.Reader) error {
	if res.samples == nil {
		res.samples = map[string][]units{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			res.cpu = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "goos: "); ok {
			res.goos = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "goarch: "); ok {
			res.goarch = strings.TrimSpace(v)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		u := units{}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("report: %q: value %q: %w", line, f[i], err)
			}
			u[f[i+1]] = v
		}
		if _, ok := u["ns/op"]; !ok {
			continue
		}
		if m := procsSuffix.FindString(f[0]); m != "" {
			res.procs, _ = strconv.Atoi(m[1:])
		}
		name := benchName(f[0])
		if _, seen := res.samples[name]; !seen {
			res.names = append(res.names, name)
		}
		res.samples[name] = append(res.samples[name], u)
	}
	return sc.Err()
}

// stat is one benchmark summed up over its runs.
type stat struct {
	name   string
	runs   int
	median units
	min    float64 // ns/op
	max    float64 // ns/op
}

// spread is the range of ns/op over its median, in percent.
func (s *stat) spread() float64 {
	if s.median["ns/op"] == 0 {
		return 0
	}
	return 100 * (s.max - s.min) / s.median["ns/op"]
}

func (res *results) stat(name string) *stat {
	runs := res.samples[name]
	if len(runs) == 0 {
		return nil
	}
	s := &stat{name: name, runs: len(runs), median: units{}}
	for unit := range runs[0] {
		var vs []float64
		for _, r := range runs {
			if v, ok := r[unit]; ok {
				vs = append(vs, v)
			}
		}
		s.median[unit] = median(vs)
		if unit == "ns/op" {
			s.min, s.max = slices.Min(vs), slices.Max(vs)
		}
	}
	return s
}

func median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}
