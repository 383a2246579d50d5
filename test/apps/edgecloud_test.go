package apps

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// examples/edge-cloud as its README runs it: three hosts on one machine,
// the manifest deployed, counts over HTTP from the edge host's front with
// the state in the cloud; a cloud host dies and the counts go on.
func TestEdgeCloudExample(t *testing.T) {
	dir := t.TempDir()
	s := testkit.NewSigner(t)
	counter := s.Sign(t, testkit.GoActor(t, "examples/counter"), "counter", spore.ContractHTTPServer, spore.ContractKeyValue)
	if err := os.WriteFile(filepath.Join(dir, "counter_s.wasm"), counter, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(testkit.Root(), "examples", "edge-cloud", "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	app := strings.Replace(string(manifest), "127.0.0.1:8080", addr, 1)

	hub := upHost(t, "cloud1", 30*time.Second, nil, "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--label", "zone=cloud", "--label", "name=cloud1")
	upHost(t, "edge1", 30*time.Second, nil, "--nats", hub.NATSURL, "--label", "zone=edge", "--label", "name=edge1")
	cloud2 := upHost(t, "cloud2", 30*time.Second, nil, "--nats", hub.NATSURL, "--label", "zone=cloud", "--label", "name=cloud2")

	out := runSpore(t, hub.NATSURL, "app", "deploy", writeManifest(t, dir, app))
	if !strings.Contains(out, "State       deployed") {
		t.Fatalf("deploy:\n%s", out)
	}
	c := client(t, hub.NATSURL)
	waitPlacement(t, c, "edge-cloud", 5*time.Second, "cloud1:1 edge1:3", "cloud2:1 edge1:3")
	hosts, err := c.Hosts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		var made []string
		for _, p := range h.Providers {
			if p.Annotations[lattice.AnnotationApp] == "edge-cloud" {
				made = append(made, p.Name)
			}
		}
		want := map[string]string{"edge": "httpserver", "cloud": "keyvalue"}[h.Labels["zone"]]
		if strings.Join(made, ",") != want {
			t.Errorf("host %s (zone %s) runs providers %v for the app; want %s", h.Labels["name"], h.Labels["zone"], made, want)
		}
	}
	for i := 1; i <= 3; i++ {
		if got := get(t, "http://"+addr+"/hits"); got != fmt.Sprintf(`{"count":%d}`, i) {
			t.Fatalf("request %d: %s", i, got)
		}
	}
	cloud2.Kill()
	testkit.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		got, err := placement(t.Context(), c, "edge-cloud")
		if err != nil || got != "cloud1:1 edge1:3" {
			return fmt.Errorf("placement %q, %v", got, err)
		}
		return nil
	})
	if got := get(t, "http://"+addr+"/hits"); got != `{"count":4}` {
		t.Fatalf("after losing a cloud host: %s", got)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	var body string
	testkit.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
		}
		body = string(b)
		return nil
	})
	return body
}
