package messaging

import (
	"strings"
	"testing"
)

// FuzzSubjects checks the subject rules on arbitrary strings: whatever they
// accept can never reach the lattice's or the server's own subjects.
func FuzzSubjects(f *testing.F) {
	for _, s := range []string{"orders.*", "spore.>", ">", "*.x", "$JS.API.>", "_INBOX.abc", "a..b", "a.>.b", "a b", "spore", "sporex.y", "a.b*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pubErr, subErr := CheckPublish(s), CheckSubscribe(s)
		for _, ok := range []bool{pubErr == nil, subErr == nil} {
			if !ok {
				continue
			}
			first, _, _ := strings.Cut(s, ".")
			if first == "spore" || first == "*" || first == ">" || strings.HasPrefix(first, "$") || s == "" ||
				strings.ContainsAny(s, " \t\r\n") || strings.Contains(s, "..") {
				t.Fatalf("accepted %q (publish: %v, subscribe: %v)", s, pubErr, subErr)
			}
		}
		if pubErr == nil && strings.ContainsAny(s, "*>") {
			for _, tok := range strings.Split(s, ".") {
				if tok == "*" || tok == ">" {
					t.Fatalf("publish accepted the wildcard subject %q", s)
				}
			}
		}
		if subErr == nil && strings.HasPrefix(s, "_INBOX.") {
			t.Fatalf("subscribe accepted %q", s)
		}
	})
}
