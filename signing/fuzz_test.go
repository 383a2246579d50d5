package signing

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSeeds returns a valid module, the same signed, and damaged variants.
func fuzzSeeds(f *testing.F) (module, signed []byte, token string) {
	f.Helper()
	module, _ = testModule()
	signed, c, err := Sign(module, Claims{
		ID:   pub(f, mustKey(f, KindActor)),
		Name: "fuzz", Revision: 1, Caps: []string{"spore:logging"},
		Expires: t0.Add(time.Hour), NotBefore: t0.Add(-time.Hour),
	}, mustKey(f, KindAccount))
	if err != nil {
		f.Fatal(err)
	}
	return module, signed, c.Token
}

func FuzzParseSections(f *testing.F) {
	module, signed, _ := fuzzSeeds(f)
	f.Add(module)
	f.Add(signed)
	f.Add(signed[:len(signed)-7])
	f.Add(module[:8])
	f.Add([]byte("garbage"))
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0, 0x84, 0x80, 0x80, 0x80, 0x00, 0x80, 0x00, 'x', 'y'})
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		secs, err := ParseSections(b)
		if err != nil {
			if !errors.Is(err, ErrNotWasm) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if errors.Is(err, ErrNotWasm) == errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps both sentinels: %v", err)
			}
			return
		}
		// Sections are contiguous, non-empty and cover the module.
		pos := headerLen
		for i, s := range secs {
			if s.Start != pos || s.End <= s.Start || s.End > len(b) || b[s.Start] != s.ID {
				t.Fatalf("section %d %+v does not follow offset %d", i, s, pos)
			}
			if s.ID != 0 && s.Name != "" {
				t.Fatalf("section %d: known section with a name", i)
			}
			if !utf8.ValidString(s.Name) {
				t.Fatalf("section %d: name not UTF-8", i)
			}
			pos = s.End
		}
		if pos != len(b) {
			t.Fatalf("sections end at %d, module at %d", pos, len(b))
		}

		// Strip and append keep the module well-formed and do what they say.
		stripped, err := StripCustom(b, claimsSection)
		if err != nil {
			t.Fatalf("StripCustom of a parsed module: %v", err)
		}
		ss, err := ParseSections(stripped)
		if err != nil {
			t.Fatalf("stripped module does not parse: %v", err)
		}
		for _, s := range ss {
			if s.ID == 0 && s.Name == claimsSection {
				t.Fatal("StripCustom left a claims section")
			}
		}
		appended, err := AppendCustom(stripped, claimsSection, b)
		if err != nil {
			t.Fatalf("AppendCustom: %v", err)
		}
		as, err := ParseSections(appended)
		if err != nil || len(as) != len(ss)+1 || as[len(as)-1].Name != claimsSection {
			t.Fatalf("appended module: %d sections, %v", len(as), err)
		}
		h1, err1 := ModuleHash(b)
		h2, err2 := ModuleHash(appended)
		if err1 != nil || err2 != nil || h1 != h2 {
			t.Fatalf("hash changed by a claims section: %s %s %v %v", h1, h2, err1, err2)
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	_, _, token := fuzzSeeds(f)
	f.Add(token)
	f.Add(token[:len(token)/2])
	f.Add(strings.Replace(token, ".", "..", 1))
	f.Add("garbage")
	f.Add("..")
	f.Add("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := DecodeToken(tok)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			checkOneSentinel(t, err)
			return
		}
		if !IsActorID(c.ID) || !IsIssuer(c.Issuer) || c.Name == "" || !isHexSHA256(c.Hash) || c.Token != strings.TrimSpace(tok) {
			t.Fatalf("accepted claims break the rules: %+v", c)
		}
	})
}

func FuzzVerify(f *testing.F) {
	module, signed, _ := fuzzSeeds(f)
	f.Add(signed, int64(0))
	f.Add(signed, t0.Unix())
	f.Add(module, t0.Unix())
	f.Add(signed[:len(signed)-3], t0.Unix())
	f.Add([]byte("garbage"), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, now int64) {
		c, err := Verify(b, VerifyOptions{Now: at(time.Unix(now, 0))})
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			checkOneSentinel(t, err)
			return
		}
		h, err := ModuleHash(b)
		if err != nil || h != c.Hash {
			t.Fatalf("verified module hash %s, claims %s, %v", h, c.Hash, err)
		}
	})
}

func checkOneSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error wraps %d sentinels: %v", n, err)
	}
}
