package providertest

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore/internal/testkit"
)

// NATS is an embedded NATS server with JetStream on a free loopback port.
type NATS struct {
	Server *server.Server
	URL    string
	dir    string
}

// StartNATS starts a NATS server with JetStream keeping its files in dir
// (a new temporary directory when dir is ""). Restart it with the same dir
// to see the data survive. It is shut down when the test ends.
func StartNATS(t testing.TB, dir string) *NATS {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "jetstream"),
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	n := &NATS{Server: s, URL: s.ClientURL(), dir: dir}
	t.Cleanup(n.Shutdown)
	return n
}

// Shutdown stops the server and waits until it is gone.
func (n *NATS) Shutdown() {
	n.Server.Shutdown()
	n.Server.WaitForShutdown()
}

// Connect returns a connection closed when the test ends.
func (n *NATS) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// StartRedis starts redis-server on a free loopback port with no
// persistence and returns its URL; the server is killed when the test ends.
// The test is skipped, saying why, when redis-server is not installed.
func StartRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed; 'make tools' installs it (apt-get install redis-server)")
	}
	port := testkit.FreePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- nil
				for sc.Scan() { // keep draining so the server never blocks
				}
				return
			}
		}
		ready <- fmt.Errorf("redis-server exited: %s", strings.Join(lines, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("redis-server did not become ready in 15s")
	}
	return "redis://127.0.0.1:" + strconv.Itoa(port) + "/0"
}
