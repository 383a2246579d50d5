package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
)

// TestLatticeStartup times what a user waits for with the real spore
// binary (SPORE_BIN), over SPORE_STARTUP_ROUNDS rounds, and writes a
// Markdown table of medians to SPORE_STARTUP_OUT; bench/lattice.sh runs it.
// It is skipped unless SPORE_STARTUP_ROUNDS is set.
//
//   - spore up (embedded NATS, a fresh data dir) from the process start to
//     its ready line (-o json: one object on stdout), and to the first
//     'spore host ls' that lists it (one starts every probeEvery; a probe's
//     own run time is included, as a user's would be);
//   - the same with the data dir of an earlier run (a restart);
//   - 'spore actor start' of a pushed ~100 KB actor, with the compilation
//     cache warm, to its first answered 'spore call'; the first start of a
//     round's fresh host compiles, and is reported apart.
func TestLatticeStartup(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("SPORE_STARTUP_ROUNDS"))
	if rounds <= 0 {
		t.Skip("set SPORE_STARTUP_ROUNDS (and SPORE_BIN) to run; bench/lattice.sh does")
	}
	bin := os.Getenv("SPORE_BIN")
	if bin == "" {
		t.Fatal("SPORE_BIN: the spore binary to time (go build -o ... ./cmd/spore)")
	}
	module, size := bigActor(t)
	var (
		fresh, freshLs, restart, restartLs []time.Duration
		cold, warm, startOnly, callOnly    []time.Duration
		lsAlone                            []time.Duration
	)
	for round := range rounds {
		home := t.TempDir()
		port := testkit.FreePort(t)
		url := fmt.Sprintf("nats://127.0.0.1:%d", port)
		up := func() (ready, listed time.Duration, stop func()) {
			return startHost(t, bin, home, port, url)
		}
		r, l, stop := up()
		fresh, freshLs = append(fresh, r), append(freshLs, l)
		stop()
		r, l, stop = up()
		restart, restartLs = append(restart, r), append(restartLs, l)

		t0 := time.Now()
		runCLI(t, bin, home, url, "host", "ls")
		lsAlone = append(lsAlone, time.Since(t0))

		file := filepath.Join(t.TempDir(), "big.wasm")
		if err := os.WriteFile(file, module, 0o644); err != nil {
			t.Fatal(err)
		}
		runCLI(t, bin, home, url, "push", file)
		for i := range 4 { // the first start compiles; the rest find the cache warm
			t0 := time.Now()
			runCLI(t, bin, home, url, "actor", "start", "big:r1")
			started := time.Since(t0)
			t1 := time.Now()
			for {
				out, err := sporeRun(bin, home, url, "call", "big", "Echo", "ping")
				if err == nil && out == "ping" {
					break
				}
				if time.Since(t0) > time.Minute {
					t.Fatalf("no answer from the started actor: %q, %v", out, err)
				}
			}
			total := time.Since(t0)
			if i == 0 {
				cold = append(cold, total)
			} else {
				warm = append(warm, total)
				startOnly = append(startOnly, started)
				callOnly = append(callOnly, time.Since(t1))
			}
			runCLI(t, bin, home, url, "actor", "stop", "big")
		}
		stop()
		t.Logf("round %d: up %s (listed %s), restart %s (listed %s), actor start to first answer: cold %s, warm %s",
			round+1, fresh[round], freshLs[round], restart[round], restartLs[round], cold[round], warm[len(warm)-1])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %d rounds (%d warm starts) | median | min | max |\n|---|--:|--:|--:|\n", rounds, len(warm))
	row := func(what string, d []time.Duration) {
		slices.Sort(d)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", what, ms(d[len(d)/2]), ms(d[0]), ms(d[len(d)-1]))
	}
	row("`spore up`, new data dir: start to ready line", fresh)
	row("`spore up`, new data dir: start to the first `spore host ls` that lists it", freshLs)
	row("`spore up`, existing data dir: start to ready line", restart)
	row("`spore up`, existing data dir: start to the first `spore host ls` that lists it", restartLs)
	row("one `spore host ls` on a running lattice (process start to exit)", lsAlone)
	row(fmt.Sprintf("`spore actor start` of a pushed %d KB actor to its first answered `spore call`, warm cache", size>>10), warm)
	row("… of which `spore actor start` (returns when the actor runs)", startOnly)
	row("… of which the first `spore call`", callOnly)
	row("the same, first start on the host (compiles; the cache is cold)", cold)
	t.Log("\n" + b.String())
	if out := os.Getenv("SPORE_STARTUP_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// probeEvery is how often a new 'spore host ls' starts while spore up
// starts.
const probeEvery = 100 * time.Millisecond

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

// startHost runs 'spore up' on a fixed port and times it to its ready line
// and to the first 'spore host ls' that lists it; stop ends it with SIGINT
// and waits.
func startHost(t *testing.T, bin, home string, port int, url string) (ready, listed time.Duration, stop func()) {
	t.Helper()
	var out, errs testkit.Buffer
	cmd := exec.Command(bin, "-o", "json", "up", "--nats-listen", fmt.Sprintf("127.0.0.1:%d", port), "--leaf-listen", "127.0.0.1:0")
	cmd.Env = testkit.SporeEnv("SPORE_HOME=" + home)
	cmd.Stdout, cmd.Stderr = &out, &errs
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	var info struct {
		HostID string `json:"host_id"`
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for json.Unmarshal(out.Bytes(), &info) != nil {
			select {
			case <-exited:
				return
			case <-time.After(time.Millisecond):
			}
		}
		ready = time.Since(t0)
	}()
	// A 'spore host ls' that asks before the host answers may wait out
	// the client's second for answers; so one starts every probeEvery,
	// overlapping, and the first to list the host counts.
	found := make(chan time.Duration, 1)
	var probes sync.WaitGroup
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
wait:
	for {
		probes.Add(1)
		go func() {
			defer probes.Done()
			if ls, err := sporeRun(bin, home, url, "-o", "json", "host", "ls"); err == nil && strings.Contains(ls, `"N`) {
				select {
				case found <- time.Since(t0):
				default:
				}
			}
		}()
		select {
		case listed = <-found:
			break wait
		case <-exited:
			t.Fatalf("spore up exited:\n%s", errs.String())
		case <-tick.C:
		}
		if time.Since(t0) > time.Minute {
			stop()
			t.Fatalf("no host listed after a minute:\n%s", errs.String())
		}
	}
	probes.Wait()
	wg.Wait()
	if ready == 0 {
		t.Fatalf("spore up never printed its ready line:\n%s", errs.String())
	}
	return ready, listed, stop
}

func runCLI(t *testing.T, bin, home, url string, args ...string) string {
	t.Helper()
	out, err := sporeRun(bin, home, url, args...)
	if err != nil {
		t.Fatalf("spore %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func sporeRun(bin, home, url string, args ...string) (string, error) {
	out, errs, err := testkit.RunSpore(bin, testkit.SporeEnv("SPORE_HOME="+home), time.Minute, append([]string{"--nats", url}, args...)...)
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(errs))
	}
	return out, nil
}

// bigActor is an echo actor of about 100 KB: host/testdata/echo.wat's
// __guest_call plus generated functions, so that the size is code that
// compiles, not only data. It returns the signed module and its size.
func bigActor(t *testing.T) ([]byte, int) {
	t.Helper()
	echo, err := os.ReadFile(filepath.Join(testkit.Root(), "host/testdata/echo.wat"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.TrimSpace(string(echo))
	var fill strings.Builder
	for i := range 660 {
		fmt.Fprintf(&fill, "  (func (export \"f%d\") (param $x i32) (result i32)\n", i)
		for j := range 12 {
			fmt.Fprintf(&fill, "    (local.set $x (i32.add (i32.mul (local.get $x) (i32.const %d)) (i32.const %d)))\n", i*13+j+3, i^j)
		}
		fill.WriteString("    (local.get $x))\n")
	}
	// Before the module's closing parenthesis.
	src = src[:strings.LastIndex(src, ")")] + "\n" + fill.String() + ")\n"
	dir := t.TempDir()
	wat := filepath.Join(dir, "big.wat")
	if err := os.WriteFile(wat, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(dir, "big.wasm")
	if out, err := exec.Command("wat2wasm", wat, "-o", wasm).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	signed := testkit.NewSigner(t).Sign(t, raw, "big", spore.ContractLogging)
	return signed, len(signed)
}
