//go:build unix

package lattice_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// TestSupervisedProviderProcess has the hub run httpserver out of process
// (the spore binary, built here), kills the process, and sees it come back
// with its links; the process ends with its host.
func TestSupervisedProviderProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the spore command")
	}
	bin := testkit.Spore(t)
	ctx := context.Background()
	hub, err := lattice.Start(ctx, lattice.Options{
		Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()}, Log: quiet,
		ProviderCommand: []string{bin, "provider", "run"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close(ctx)
	c := connect(t, hub.ClientURL(), "default")
	startProbe(t, c, testkit.NewSigner(t), hub.ID(), "web", spore.ContractHTTPServer)
	pi, err := c.StartProvider(ctx, lattice.StartProvider{Name: "httpserver", Process: true}, nil, hub.ID())
	if err != nil {
		t.Fatal(err)
	}
	if pi.Annotations["process"] != "supervised" || pi.Annotations["pid"] == "" {
		t.Fatalf("provider info %+v", pi)
	}
	addr := testkit.FreeAddr(t)
	if _, err := c.PutLink(ctx, httpLink("web", addr)); err != nil {
		t.Fatal(err)
	}
	serves := func() error {
		status, body, err := post("http://"+addr+"/", answer("out of process"))
		if err != nil || status != 200 || body != "out of process" {
			return fmt.Errorf("%d %q %v", status, body, err)
		}
		return nil
	}
	if err := serves(); err != nil {
		t.Fatal(err)
	}
	pid := func() int {
		inv, err := c.Inventory(ctx, hub.ID())
		if err != nil || len(inv.Providers) == 0 {
			return 0
		}
		for _, p := range inv.Providers {
			if p.Name == "httpserver" {
				n, _ := strconv.Atoi(p.Annotations["pid"])
				return n
			}
		}
		return 0
	}
	first := pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if p := pid(); p == 0 || p == first {
			return fmt.Errorf("not restarted (pid %d)", p)
		}
		return serves()
	})
	last := pid()
	hub.Close(ctx)
	testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if syscall.Kill(last, 0) == nil {
			return fmt.Errorf("provider process %d outlived its host", last)
		}
		return nil
	})
}
