// Command report writes the host section of docs/benchmarks.md from the
// output of the benchmarks bench/run.sh runs: medians over the rounds, the
// ratio of each contender to the raw wazero floor of the same run, a verdict
// per target of issue #2, and the defaults the numbers support.
//
//	report -doc docs/benchmarks.md -command "$cmd" -commit "$rev" results.txt...
//
// It replaces only the text between <!-- host:begin --> and
// <!-- host:end -->, appending the section if the markers are missing, so
// the scripts of other sections (lattice, HTTP, key-value) can share the
// file.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// section is the name in this command's markers.
const section = "host"

// docHeader starts docs/benchmarks.md when it does not exist yet.
const docHeader = `# Benchmarks

The numbers behind Spore's performance targets and defaults. Each section is
written by the script it names, between ` + "`<!-- NAME:begin -->`" + ` and
` + "`<!-- NAME:end -->`" + ` markers; a script replaces only its own section, so
to change a section, change its script and run it again.
`

func main() {
	doc := flag.String("doc", "docs/benchmarks.md", "the markdown file to update")
	command := flag.String("command", "", "the commands that produced the results, shown in the section")
	commit := flag.String("commit", "", "the commit measured")
	versions := flag.String("versions", "", "versions of the modules compared, e.g. \"wazero v1.12.0, wapc-go v0.7.0\"")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: report [-doc FILE] [-command CMD] [-commit REV] [-versions TEXT] RESULTS...")
		os.Exit(2)
	}
	if err := run(*doc, flag.Args(), meta{command: *command, commit: *commit, versions: *versions}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(docPath string, inputs []string, m meta) error {
	var res results
	for _, in := range inputs {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		err = res.parse(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if len(res.names) == 0 {
		return fmt.Errorf("report: no benchmark results in %s", strings.Join(inputs, ", "))
	}
	m.date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	m.goVersion = runtime.Version()
	m.nproc = runtime.NumCPU()
	m.cpu = cpuModel(res.cpu)
	m.load = loadAverage()

	old, err := os.ReadFile(docPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("report: %w", err)
	}
	out, err := splice(string(old), section, render(&res, m))
	if err != nil {
		return fmt.Errorf("report: %s: %w", docPath, err)
	}
	if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// splice puts body between the markers of name in doc: in place of what
// was there, or at the end. An empty doc gets docHeader first.
func splice(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	block := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end + "\n"
	if strings.TrimSpace(doc) == "" {
		return docHeader + "\n" + block, nil
	}
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	switch {
	case i < 0 && j < 0:
		return strings.TrimRight(doc, "\n") + "\n\n" + block, nil
	case i < 0 || j < i:
		return "", fmt.Errorf("the %s markers are broken: want %s before %s", name, begin, end)
	}
	rest := strings.TrimPrefix(doc[j+len(end):], "\n")
	return doc[:i] + block + rest, nil
}

// cpuModel is the model name from /proc/cpuinfo, or go test's cpu line.
func cpuModel(fallback string) string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range bytes.Lines(b) {
			k, v, ok := strings.Cut(string(line), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	if fallback == "" {
		return "unknown"
	}
	return fallback
}

// loadAverage is the 1, 5 and 15 minute load from /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " / ")
}
