package signing

import (
	"bytes"
	"slices"
	"testing"
)

func TestParseSections(t *testing.T) {
	module, _ := testModule()
	withCustom, err := AppendCustom(module, "name", []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSections(withCustom)
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{
		{ID: 1, Start: 8, End: 15},
		{ID: 3, Start: 15, End: 19},
		{ID: 7, Start: 19, End: 31},
		{ID: 10, Start: 31, End: 39},
		{ID: 0, Name: "name", Start: 39, End: 49},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseSections =\n%+v\nwant\n%+v", got, want)
	}
	if got, err := ParseSections(withCustom[:8]); err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func TestParseSectionsPaddedLEB(t *testing.T) {
	// Linkers pad section sizes to 5 bytes; the spec allows it.
	m := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0, 0x84, 0x80, 0x80, 0x80, 0x00, 0x80, 0x00, 'x', 'y'}
	// name length 0 padded to 2 bytes, then payload "xy": size 4
	got, err := ParseSections(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "" || got[0].End != len(m) {
		t.Errorf("got %+v", got)
	}
}

func TestParseSectionsErrors(t *testing.T) {
	hdr := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	mod := func(b ...byte) []byte { return append(slices.Clone(hdr), b...) }
	tests := []struct {
		name   string
		module []byte
		want   error
	}{
		{"empty", nil, ErrNotWasm},
		{"short magic", []byte{0, 'a', 's'}, ErrNotWasm},
		{"wrong magic", []byte("\x7fELF\x02\x01\x01\x00"), ErrNotWasm},
		{"header cut", hdr[:6], ErrNotWasm},
		{"version 2", []byte{0, 'a', 's', 'm', 2, 0, 0, 0}, ErrNotWasm},
		{"component", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, ErrNotWasm},
		{"id without size", mod(1), ErrMalformed},
		{"size cut", mod(1, 0x80), ErrMalformed},
		{"size past end", mod(1, 5, 1, 2), ErrMalformed},
		{"size huge", mod(1, 0xff, 0xff, 0xff, 0xff, 0x0f), ErrMalformed},
		{"size 6-byte LEB", mod(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), ErrMalformed},
		{"size over 32 bits", mod(1, 0x80, 0x80, 0x80, 0x80, 0x10), ErrMalformed},
		{"custom without name", mod(0, 0), ErrMalformed},
		{"custom name past section", mod(0, 2, 5, 'a', 'b'), ErrMalformed},
		{"custom name bad LEB", mod(0, 1, 0x80), ErrMalformed},
		{"custom name not UTF-8", mod(0, 2, 1, 0xff), ErrMalformed},
		{"second section cut", mod(1, 0, 3, 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSections(tt.module)
			if got != nil {
				t.Errorf("sections returned with error: %+v", got)
			}
			checkSentinel(t, err, tt.want)
			if _, err := StripCustom(tt.module, "x"); err == nil {
				t.Error("StripCustom accepted it")
			}
			if _, err := AppendCustom(tt.module, "x", nil); err == nil {
				t.Error("AppendCustom accepted it")
			}
		})
	}
}

func TestStripAndAppendCustom(t *testing.T) {
	module, _ := testModule()
	m, err := AppendCustom(module, "a", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ = AppendCustom(m, "b", []byte("two"))
	m, _ = AppendCustom(m, "a", bytes.Repeat([]byte{'x'}, 200)) // size needs a 2-byte LEB
	secs, err := ParseSections(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 7 || secs[6].Name != "a" || secs[6].End != len(m) {
		t.Fatalf("after append: %+v", secs)
	}

	tests := []struct {
		name  string
		strip string
		want  []string // custom names left
	}{
		{"a", "a", []string{"b"}},
		{"b", "b", []string{"a", "a"}},
		{"absent", "c", []string{"a", "b", "a"}},
		{"empty name", "", []string{"a", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := StripCustom(m, tt.strip)
			if err != nil {
				t.Fatal(err)
			}
			secs, err := ParseSections(out)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range secs {
				if s.ID == 0 {
					names = append(names, s.Name)
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("custom sections left: %q, want %q", names, tt.want)
			}
			if !bytes.HasPrefix(out, module) {
				t.Error("known sections changed")
			}
		})
	}
	if stripped, _ := StripCustom(module, "a"); &stripped[0] == &module[0] {
		t.Error("StripCustom returned its input, not a copy")
	}
	if _, err := AppendCustom(module, "\xff", nil); err == nil {
		t.Error("AppendCustom took a non-UTF-8 name")
	}
}
