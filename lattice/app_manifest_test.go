package lattice_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseManifestSpecExample(t *testing.T) {
	m, err := lattice.ParseManifest("app_shop.yaml", readTestdata(t, "app_shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &lattice.Manifest{
		Name:    "shop",
		Version: "v1",
		Actors: []lattice.ManifestActor{{
			Name: "api", Ref: "shop-api:1.0.0", Instances: 4,
			Spread: []lattice.Spread{
				{Name: "edge", Weight: 75, Requirements: map[string]string{"zone": "edge"}},
				{Name: "cloud", Weight: 25, Requirements: map[string]string{"zone": "cloud"}},
			},
			Links: []lattice.ManifestLink{
				{Contract: "spore:httpserver", Provider: "httpserver", Values: map[string]string{"address": "0.0.0.0:8080"}},
				{Contract: "spore:keyvalue", Provider: "keyvalue", Values: map[string]string{"bucket": "shop"}},
			},
		}},
		Providers: []lattice.ManifestProvider{
			{Name: "httpserver", Requirements: map[string]string{"zone": "edge"}},
			{Name: "keyvalue", Requirements: map[string]string{"zone": "cloud"}},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", m, want)
	}
}

func TestParseManifestExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testkit.Root(), "examples", "*", "*.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lattice.ParseManifest(f, b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseManifestDefaults(t *testing.T) {
	m, err := lattice.ParseManifest("a.yaml", []byte("name: a\nversion: 1\nactors:\n  - name: x\n    ref: x:1\n    spread:\n      - name: any\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := m.Actors[0]
	if m.Version != "1" || a.Instances != 1 || a.Spread[0].Weight != lattice.DefaultSpreadWeight {
		t.Fatalf("defaults: %+v", m)
	}
}

// Every problem comes back at once, each with its line and field.
func TestParseManifestReportsEveryError(t *testing.T) {
	_, err := lattice.ParseManifest("app.yaml", readTestdata(t, "app_broken.yaml"))
	if !errors.Is(err, lattice.ErrManifest) {
		t.Fatalf("err = %v, want ErrManifest", err)
	}
	want := []string{
		`app.yaml:1: name: "my shop": use 1-63 letters, digits, '-' or '_', starting with a letter or digit`,
		`app.yaml:6: actors[0].instances: must be >= 1`,
		`app.yaml:7: actors[0].colour: unknown field (want one of name, ref, instances, spread, links)`,
		`app.yaml:9: actors[0].spread[0].weight: must be >= 0`,
		`app.yaml:10: actors[0].spread[1].name: required`,
		`app.yaml:11: actors[0].spread[2].name: "edge" repeats actors[0].spread[0]`,
		`app.yaml:13: actors[0].links[0].values.bucket: want a value, got a list`,
		`app.yaml:13: actors[0].links[0].contract: "keyvalue" is not a contract id (such as spore:keyvalue)`,
		`app.yaml:14: actors[1].name: "api" repeats actors[0]`,
		`app.yaml:16: actors[1].instances: want a whole number, got "many"`,
		`app.yaml:18: providers[0].name: required`,
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseManifestErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"empty", "", "app.yaml: empty manifest: want name, version and actors (see docs/apps.md)"},
		{"not a mapping", "- a\n- b\n", "app.yaml:1: want a mapping, got a list"},
		{"syntax", "name: a\n  version: b\n", "app.yaml:2: mapping values are not allowed in this context"},
		{"missing fields", "actors: []\n", "app.yaml:1: name: required\napp.yaml:1: version: required"},
		{"no actors", "name: a\nversion: v1\n", "app.yaml:1: actors: an app needs at least one actor or provider"},
		{"repeated key", "name: a\nname: b\nversion: v1\nproviders: [{name: p}]\n", "app.yaml:2: name: repeated key"},
		{"zero weights", "name: a\nversion: v1\nactors:\n- name: x\n  ref: x:1\n  spread: [{name: s, weight: 0}]\n",
			"app.yaml:6: actors[0].spread: the weights add up to 0; give at least one spread a weight > 0"},
		{"same ref twice", "name: a\nversion: v1\nactors:\n- {name: x, ref: m:1}\n- {name: y, ref: m:1}\n",
			`app.yaml:5: actors[1].ref: "m:1" repeats actors[0]; an actor runs once per host, so give each app actor its own module`},
		{"same link twice", "name: a\nversion: v1\nactors:\n- name: x\n  ref: m:1\n  links:\n  - {contract: spore:keyvalue}\n  - {contract: spore:keyvalue, link_name: default}\n",
			`app.yaml:8: actors[0].links[1].contract: "spore:keyvalue link name default" repeats actors[0].links[0]`},
		{"requirements not a map", "name: a\nversion: v1\nproviders: [{name: p, requirements: zone}]\n",
			`app.yaml:3: providers[0].requirements: want a mapping of names to values, got "zone"`},
		{"alias bomb", aliasBomb(), "app.yaml:"},
		{"huge", strings.Repeat("#", lattice.MaxManifestSize+1), "app.yaml: manifest is 1048577 bytes; the limit is 1048576"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := lattice.ParseManifest("app.yaml", []byte(c.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
		})
	}
}

// aliasBomb is the billion-laughs document: each level refers to the one
// before nine times.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("name: x\nversion: v\nactors:\n- name: y\n  ref: r\n  links:\n  - {contract: a:b, values: {v: *a8}}\n")
	return b.String()
}

func FuzzParseManifest(f *testing.F) {
	f.Add(readTestdata(f, "app_shop.yaml"))
	f.Add(readTestdata(f, "app_broken.yaml"))
	if b, err := os.ReadFile(filepath.Join(testkit.Root(), "examples", "edge-cloud", "app.yaml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("name: a\n  version: b\n"))
	f.Add([]byte("- [\n"))
	f.Add([]byte(aliasBomb()))
	f.Add([]byte("name: &n a\nversion: *n\nproviders: [{name: *n, requirements: {k: *n}}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := lattice.ParseManifest("fuzz.yaml", b)
		if (m == nil) == (err == nil) {
			t.Fatalf("manifest %v and error %v", m, err)
		}
		if err != nil {
			var es lattice.ManifestErrors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not ManifestErrors", err, err)
			}
			return
		}
		for _, a := range m.Actors {
			if a.Instances < 1 || a.Name == "" || a.Ref == "" {
				t.Fatalf("accepted actor %+v", a)
			}
		}
	})
}
