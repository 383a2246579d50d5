package signing

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestParseKeyKind(t *testing.T) {
	tests := []struct {
		in      string
		want    KeyKind
		wantErr bool
	}{
		{"account", KindAccount, false},
		{"actor", KindActor, false},
		{" Host ", KindHost, false},
		{"CLUSTER", KindCluster, false},
		{"user", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKeyKind(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseKeyKind(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	tests := []struct {
		kind  KeyKind
		valid func(string) bool
	}{
		{KindAccount, nkeys.IsValidPublicAccountKey},
		{KindActor, nkeys.IsValidPublicUserKey},
		{KindHost, nkeys.IsValidPublicServerKey},
		{KindCluster, nkeys.IsValidPublicClusterKey},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			kp := mustKey(t, tt.kind)
			if p := pub(t, kp); !tt.valid(p) {
				t.Errorf("%s key %s has the wrong type", tt.kind, p)
			}
		})
	}
	if !IsActorID(pub(t, mustKey(t, KindActor))) || IsActorID(pub(t, mustKey(t, KindAccount))) {
		t.Error("IsActorID wrong")
	}
	if !IsIssuer(pub(t, mustKey(t, KindAccount))) || IsIssuer(pub(t, mustKey(t, KindActor))) || IsIssuer("") {
		t.Error("IsIssuer wrong")
	}
	if _, err := NewKey("operator"); err == nil {
		t.Error("NewKey took an unknown kind")
	}
}

func TestWriteKeyLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	for _, kind := range []KeyKind{KindAccount, KindActor, KindHost, KindCluster} {
		t.Run(string(kind), func(t *testing.T) {
			kp := mustKey(t, kind)
			path, err := WriteKey(dir, kind, kp)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, string(kind)+"-"+pub(t, kp)[:8]+".nk"); path != want {
				t.Errorf("path = %s, want %s", path, want)
			}
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
				}
				di, _ := os.Stat(dir)
				if di.Mode().Perm() != 0o700 {
					t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
				}
			}
			back, err := LoadKey(path)
			if err != nil {
				t.Fatal(err)
			}
			if pub(t, back) != pub(t, kp) {
				t.Error("LoadKey returned another key")
			}
			// Writing the same key again is harmless.
			if again, err := WriteKey(dir, kind, kp); err != nil || again != path {
				t.Errorf("rewrite: %s, %v", again, err)
			}
		})
	}
}

func TestWriteKeyErrors(t *testing.T) {
	dir := t.TempDir()
	account := mustKey(t, KindAccount)
	publicOnly, _ := nkeys.FromPublicKey(pub(t, account))

	// A different key already at the path is never overwritten.
	clash := filepath.Join(dir, "account-"+pub(t, account)[:8]+".nk")
	other, _ := mustKey(t, KindAccount).Seed()
	if err := os.WriteFile(clash, other, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		kind    KeyKind
		kp      nkeys.KeyPair
		wantMsg string
	}{
		{"unknown kind", "user", account, "unknown key kind"},
		{"kind mismatch", KindActor, account, "want an nkeys user key"},
		{"no key", KindAccount, nil, "no key pair"},
		{"public only", KindAccount, publicOnly, "no seed"},
		{"clash", KindAccount, account, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WriteKey(dir, tt.kind, tt.kp)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want %q", err, tt.wantMsg)
			}
		})
	}
	if got, _ := os.ReadFile(clash); string(got) != string(other) {
		t.Error("the existing key file was changed")
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	account := mustKey(t, KindAccount)
	curve, _ := nkeys.CreateCurveKeys()
	curveSeed, _ := curve.Seed()
	tests := []struct {
		name    string
		path    string
		wantMsg string
	}{
		{"missing", filepath.Join(dir, "nope.nk"), "no such file"},
		{"directory", dir, "load key"},
		{"empty", write("empty.nk", " \n\t"), "empty"},
		{"public key", write("pub.nk", pub(t, account)+"\n"), "public key, not a seed"},
		{"garbage", write("junk.nk", "hello world"), "not an nkeys seed"},
		{"corrupt seed", write("bad.nk", "SAAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), "not an nkeys seed"},
		{"curve seed", write("x.nk", string(curveSeed)), "curve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := LoadKey(tt.path)
			if err == nil || kp != nil || !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "signing: ") {
				t.Errorf("LoadKey = %v, %v; want error with %q", kp, err, tt.wantMsg)
			}
		})
	}

	seed, _ := account.Seed()
	if kp, err := LoadKey(write("spaced.nk", "\n  "+string(seed)+"  \r\n")); err != nil || pub(t, kp) != pub(t, account) {
		t.Errorf("whitespace around the seed: %v", err)
	}
}
