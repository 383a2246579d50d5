package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spore-run/spore/host"
)

// meta is what the section says about the run besides the numbers.
type meta struct {
	command   string
	commit    string
	versions  string
	date      string
	goVersion string
	nproc     int
	cpu       string
	load      string
}

// group is one benchmark function: a table of its own.
type group struct {
	name  string // the benchmark function without "Benchmark"
	title string
	about string
}

var groups = []group{
	{"Invoke", "Invoke, one goroutine",
		"The echo actor (host/testdata/echo.wat) answers its payload; one call per iteration."},
	{"InvokeParallel", "Invoke, GOMAXPROCS goroutines",
		"`b.RunParallel`: raw gives each goroutine an instance of its own; Spore's goroutines share one actor, with default limits, and its pool."},
	{"Instantiate", "Instantiate from a compiled module",
		"Raw `runtime.InstantiateModule` (running `_initialize` for the Go actor) against Spore's `newInstance`: capped memory, guest writers, deadline timer, and the init call under the deadline. Closing is not timed. *linear-B* is the instance's linear memory once made."},
	{"GoActor", "Go actor: examples/hello, operation Hello",
		"A Go guest (`GOOS=wasip1`, `-buildmode=c-shared`) answering `Hello`, including its `Logging.Write` host call through the capability gate to the logging provider. There is no raw floor for it; compare the two rows for the cost of deadlines on a guest that loops."},
}

// render writes the section, markers excluded.
func render(res *results, m meta) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }

	p("## Host: invoke and instantiate\n\n")
	p("Written by `make bench` (bench/run.sh) on %s", m.date)
	if m.commit != "" {
		p(", at commit %s", m.commit)
	}
	p(". Machine: %s %s/%s, %d CPUs, %s", m.goVersion, res.goos, res.goarch, m.nproc, m.cpu)
	if m.load != "" {
		p("; load average %s (1 / 5 / 15 min) when the run ended", m.load)
	}
	p(". The machine may be shared, so compare ratios, which are taken seconds apart, more than absolute times.")
	if m.versions != "" {
		p(" Compared: %s.", m.versions)
	}
	p("\n\n")
	if m.command != "" {
		p("```sh\n%s\n```\n\n", strings.TrimSpace(m.command))
	}
	p("Each number is the median of %d rounds. A round runs every contender once, in turn, in one process, "+
		"so the contenders interleave. *× raw* is the median time over the raw floor's in the same run; "+
		"*spread* is the range of the rounds over the median.\n\n", res.rounds())

	p("### Targets (issue #2)\n\n")
	for _, v := range verdicts(res) {
		p("- %s\n", v)
	}
	p("\n")

	for _, g := range orderedGroups(res) {
		writeTable(&w, res, g)
	}

	p("### What runs\n\n")
	p("- **raw**: the floor. A hand-written waPC host on plain `wazero.NewRuntime`: three host functions " +
		"(`__guest_request`, `__guest_response`, `__guest_error`) that find the call's state, a plain struct, " +
		"through the context; `CallWithStack` with a reused stack; the response copied out of guest memory " +
		"(its one allocation: any host must copy before the next call overwrites it). No pool, limits or deadline.\n")
	p("- **wapc-go**: github.com/wapc/wapc-go v0.7.0 on its wazero engine, one instance, `Instance.Invoke`. " +
		"It puts the call in a `context.WithValue` per call, and returns a slice of guest memory, not a copy, " +
		"which the next call overwrites. It has no deadline.\n")
	p("- **spore**: `host.Actor.Invoke` on a signed module loaded with the default limits (%d instances at most, "+
		"%d warm, %d MiB of memory, a %s deadline): pool, capped memory, context without allocation, deadline timer.\n",
		host.DefaultMaxInstances, host.DefaultWarm, host.DefaultMemoryLimit>>20, host.DefaultTimeout)
	p("- **spore-nodeadline**: the same with `host.NewConfig().WithoutDeadlines()`: no watchdog, and the module " +
		"is not instrumented.\n\n")
	p("What the deadline costs: the budget check that package interrupt adds to the top of every loop " +
		"and function entry (a load, a subtraction, a store and a branch, and a call to the host's yield " +
		"every 100,000 turns of a small loop), and the two atomic stores that arm and disarm the watchdog. Until Spore instrumented " +
		"modules itself it used wazero v1.12's `WithCloseOnContextDone`, which starts a watcher goroutine on " +
		"every call and compiles a call out to Go into every loop back-edge: 6.2x raw on the 64 B echo call, " +
		"and about 0.1 µs per branch of a Go guest (wazero issue #2466; RATIONALE.md).\n\n")

	p("### Defaults chosen from these numbers\n\n")
	p("%s\n", defaults(res))
	return w.String()
}

// orderedGroups lists the known groups that have results, then any other.
func orderedGroups(res *results) []group {
	present := map[string]bool{}
	var unknown []string
	for _, n := range res.names {
		g, _, _ := strings.Cut(n, "/")
		if !present[g] && !slices.ContainsFunc(groups, func(k group) bool { return k.name == g }) {
			unknown = append(unknown, g)
		}
		present[g] = true
	}
	var out []group
	for _, g := range groups {
		if present[g.name] {
			out = append(out, g)
		}
	}
	for _, g := range unknown {
		out = append(out, group{name: g, title: g})
	}
	return out
}

// The units every table shows; others (custom metrics) get a column each.
var stdUnits = []string{"ns/op", "B/op", "allocs/op"}

func writeTable(w *strings.Builder, res *results, g group) {
	var rows []*stat
	extra := map[string]bool{}
	for _, n := range res.names {
		if strings.HasPrefix(n, g.name+"/") {
			s := res.stat(n)
			rows = append(rows, s)
			for u := range s.median {
				if !slices.Contains(stdUnits, u) {
					extra[u] = true
				}
			}
		}
	}
	extras := make([]string, 0, len(extra))
	for u := range extra {
		extras = append(extras, u)
	}
	slices.Sort(extras)

	fmt.Fprintf(w, "### %s\n\n", g.title)
	if g.about != "" {
		fmt.Fprintf(w, "%s\n\n", g.about)
	}
	fmt.Fprintf(w, "| case | contender | ns/op | spread | B/op | allocs/op |")
	for _, u := range extras {
		fmt.Fprintf(w, " %s |", u)
	}
	fmt.Fprintf(w, " × raw |\n|---|---|--:|--:|--:|--:|")
	for range extras {
		fmt.Fprintf(w, "--:|")
	}
	fmt.Fprintf(w, "--:|\n")
	for _, s := range rows {
		_, contender, kase := split(s.name)
		fmt.Fprintf(w, "| %s | %s | %s | %.0f%% | %s | %s |", kase, contender,
			fmtNS(s.median["ns/op"]), s.spread(), fmtInt(s.median["B/op"]), fmtInt(s.median["allocs/op"]))
		for _, u := range extras {
			if v, ok := s.median[u]; ok {
				fmt.Fprintf(w, " %s |", fmtInt(v))
			} else {
				fmt.Fprintf(w, " — |")
			}
		}
		ratio := "—"
		if raw := res.stat(g.name + "/raw/" + kase); raw != nil {
			ratio = fmtRatio(s.median["ns/op"] / raw.median["ns/op"])
			if contender == "raw" {
				ratio = "1"
			}
		}
		fmt.Fprintf(w, " %s |\n", ratio)
	}
	fmt.Fprintf(w, "\n")
}

// split cuts "Invoke/spore/64B" into its group, contender and case.
func split(name string) (g, contender, kase string) {
	parts := strings.SplitN(name, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func (res *results) rounds() int {
	n := 0
	for _, s := range res.samples {
		n = max(n, len(s))
	}
	return n
}

// get returns the stat of group/contender/case, or nil.
func (res *results) get(g, contender, kase string) *stat {
	return res.stat(g + "/" + contender + "/" + kase)
}

func ns(s *stat) float64 { return s.median["ns/op"] }

// comparison is one case of a target: Spore against a baseline.
type comparison struct {
	label    string
	group    string
	kase     string
	baseline string // contender
}

// ratios returns, per comparison, Spore's and Spore-without-deadlines'
// ratio to the baseline, and a text with the numbers; ok is false when a
// result is missing.
func ratios(res *results, cs []comparison, limit float64) (met, metNoDeadline bool, text, noDeadline string, ok bool) {
	met, metNoDeadline = true, true
	var parts, ndParts []string
	for _, c := range cs {
		s, nd, base := res.get(c.group, "spore", c.kase), res.get(c.group, "spore-nodeadline", c.kase), res.get(c.group, c.baseline, c.kase)
		if s == nil || base == nil {
			return false, false, "", "", false
		}
		r := ns(s) / ns(base)
		met = met && r <= limit
		parts = append(parts, fmt.Sprintf("%s %s (%s vs %s ns)", c.label, fmtRatio(r), fmtNS(ns(s)), fmtNS(ns(base))))
		if nd != nil {
			r := ns(nd) / ns(base)
			metNoDeadline = metNoDeadline && r <= limit
			ndParts = append(ndParts, fmt.Sprintf("%s %s", c.label, fmtRatio(r)))
		}
	}
	return met, metNoDeadline, strings.Join(parts, "; "), strings.Join(ndParts, "; "), true
}

func verdictWord(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}

// verdicts returns one line per target of issue #2.
func verdicts(res *results) []string {
	var out []string
	target := func(title string, cs []comparison, limit float64) {
		met, metND, text, nd, ok := ratios(res, cs, limit)
		if !ok {
			out = append(out, fmt.Sprintf("**%s: no data.**", title))
			return
		}
		line := fmt.Sprintf("**%s: %s.** %s.", title, verdictWord(met), text)
		if nd != "" {
			line += fmt.Sprintf(" Without deadlines: %s (%s).", nd, verdictWord(metND))
		}
		if !met && metND {
			line += " The deadline mechanism makes the difference; see *What runs*."
		}
		out = append(out, line)
	}
	target("Spore's invoke within 2x the raw floor", []comparison{
		{"one goroutine, 64 B:", "Invoke", "64B", "raw"},
		{"one goroutine, 4 KiB:", "Invoke", "4KiB", "raw"},
		{"GOMAXPROCS goroutines, 64 B:", "InvokeParallel", "64B", "raw"},
		{"GOMAXPROCS goroutines, 4 KiB:", "InvokeParallel", "4KiB", "raw"},
	}, 2)
	// Faster means a ratio under 1; a tie within the rounding is not faster.
	target("Spore's invoke faster than wapc-go", []comparison{
		{"64 B:", "Invoke", "64B", "wapc-go"},
		{"4 KiB:", "Invoke", "4KiB", "wapc-go"},
	}, math.Nextafter(1, 0))
	var floor []string
	for _, kase := range []string{"64B", "4KiB"} {
		if raw, peer := res.get("Invoke", "raw", kase), res.get("Invoke", "wapc-go", kase); raw != nil && peer != nil {
			floor = append(floor, fmt.Sprintf("%s wapc-go's time at %s", fmtRatio(ns(raw)/ns(peer)), kase))
		}
	}
	if len(floor) > 0 {
		out[len(out)-1] += fmt.Sprintf(" The raw floor, which copies the response as Spore does, takes %s: "+
			"wapc-go hands back guest memory instead of a copy, and a copy of 4 KiB per call is an allocation the others pay for.",
			strings.Join(floor, " and "))
	}
	out = append(out, allocVerdict(res))
	target("Spore's instantiation within 1.5x raw", []comparison{
		{"echo:", "Instantiate", "echo", "raw"},
		{"Go actor:", "Instantiate", "hello-go", "raw"},
	}, 1.5)
	return out
}

// allocVerdict reports allocations per invoke, the target being that they
// are measured and shown.
func allocVerdict(res *results) string {
	var parts []string
	for _, kase := range []string{"64B", "4KiB"} {
		var cs []string
		for _, c := range []string{"spore", "spore-nodeadline", "raw", "wapc-go"} {
			if s := res.get("Invoke", c, kase); s != nil {
				cs = append(cs, fmt.Sprintf("%s %s (%s B)", c, fmtInt(s.median["allocs/op"]), fmtInt(s.median["B/op"])))
			}
		}
		if len(cs) > 0 {
			parts = append(parts, kase+": "+strings.Join(cs, ", "))
		}
	}
	if len(parts) == 0 {
		return "**Allocations per invoke reported: no data.**"
	}
	return "**Allocations per invoke reported: met.** " + strings.Join(parts, "; ") +
		". Raw's one allocation is the response copy, which Spore makes too; wapc-go returns guest memory instead."
}

// defaults explains the host's defaults with this run's numbers.
func defaults(res *results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	s, nd := res.get("Invoke", "spore", "64B"), res.get("Invoke", "spore-nodeadline", "64B")
	gs, gnd := res.get("GoActor", "spore", "Hello"), res.get("GoActor", "spore-nodeadline", "Hello")
	if s != nil && nd != nil && gs != nil && gnd != nil {
		goCost := (ns(gs) - ns(gnd)) / ns(gnd)
		p("**Deadlines are on by default** (`host.NewConfig()`; `WithoutDeadlines` exists for this measurement). "+
			"They cost %s ns per call on the echo actor (%s a call without them) and %s on the Go actor's Hello (%+.0f%%). ",
			fmtNS(ns(s)-ns(nd)), fmtRatio(ns(s)/ns(nd)), fmtDuration(ns(gs)-ns(gnd)), 100*goCost)
		if goCost < 0.10 {
			p("Next to a guest that does real work that is small. ")
		} else {
			p("That is not small, and it is wazero's doing (see *What runs*). ")
		}
		p("They stay on regardless: without them a guest that loops holds its instance and its caller for ever, " +
			"and nothing else can stop it.\n\n")
	}

	warm := fmt.Sprintf("**`DefaultWarm` = %d**: loading an actor makes that many instances, so its first call does not wait for one", host.DefaultWarm)
	ie, ig := res.get("Instantiate", "spore", "echo"), res.get("Instantiate", "spore", "hello-go")
	if ie != nil && ig != nil {
		warm += fmt.Sprintf(" (%s for the echo actor, %s for a Go actor)", fmtDuration(ns(ie)), fmtDuration(ns(ig)))
	}
	p("%s; more are made as calls overlap, and an instance made once is kept. "+
		"Making them all up front would cost that time and memory for every actor loaded, used or not.\n\n", warm)

	p("**`DefaultMaxInstances` = %d**: an instance serves one call at a time, so this is how many calls of one actor run at once on a host. ",
		host.DefaultMaxInstances)
	if ig != nil {
		if mem, ok := ig.median["linear-B"]; ok {
			p("A Go-actor instance holds %s MiB of linear memory when made, so %d of them hold %s MiB, and only under that much load. ",
				fmtFloat(mem/(1<<20)), host.DefaultMaxInstances, fmtFloat(float64(host.DefaultMaxInstances)*mem/(1<<20)))
		}
	}
	pr, pn := res.get("InvokeParallel", "spore-nodeadline", "64B"), res.get("InvokeParallel", "raw", "64B")
	sr, sn := res.get("Invoke", "spore-nodeadline", "64B"), res.get("Invoke", "raw", "64B")
	if pr != nil && pn != nil && sr != nil && sn != nil {
		par, ser := ns(pr)/ns(pn), ns(sr)/ns(sn)
		p("%d goroutines sharing one actor ran at %s raw without deadlines, against %s from one goroutine: ",
			res.parallelism(), fmtRatio(par), fmtRatio(ser))
		if par <= 1.25*ser {
			p("the pool is not a bottleneck at this core count. ")
		} else {
			p("the pool costs something under contention. ")
		}
	}
	p("More instances than CPUs only help actors that wait in host calls (key-value, HTTP client), which is " +
		"what the headroom above the core count of a small host is for; `Limits.MaxInstances` raises or lowers it per actor.")
	return b.String()
}

// parallelism is the GOMAXPROCS the results were taken with, from the
// "-N" suffix go test prints; 1 when there is none.
func (res *results) parallelism() int {
	if res.procs > 0 {
		return res.procs
	}
	return 1
}

func fmtRatio(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0fx", r)
	default:
		return fmt.Sprintf("%.2fx", r)
	}
}

func fmtNS(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return fmtInt(v)
}

// fmtInt writes v rounded, with thousands separators.
func fmtInt(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fmtFloat(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// fmtDuration writes nanoseconds in the unit that suits them.
func fmtDuration(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%.1f ms", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	default:
		return fmt.Sprintf("%.0f ns", v)
	}
}
