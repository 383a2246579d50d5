package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/lattice"
)

func TestEventLines(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.Local)
	actorID := "UB5BE6LPAHSBLCIKVXH6SCXEAIPCVL6ZYZIDQ5VNL6HQESHVU4XBEGP5"
	tests := []struct {
		name string
		typ  string
		data string
		want string
	}{
		{"actor", "actor_started", `{"name":"echo","id":"` + actorID + `","host_id":"NC6BY3TIFGMS6LYU","instances":2}`,
			"03:04:05.600  actor_started        host/NABCDEFGHIJK  name=echo id=UB5BE6LPAHSB host_id=NC6BY3TIFGMS instances=2"},
		{"heartbeat", "host_heartbeat", `{"id":"NC6BY3TIFGMS6LYU","labels":{"zone":"edge","os":"linux"},"actors":[{},{}]}`,
			"host_heartbeat       host/NABCDEFGHIJK  id=NC6BY3TIFGMS actors=2 labels=os=linux,zone=edge"},
		{"not an object", "invocation_rejected", `[1,2]`, "[1,2]"},
		{"no fields we know", "x", `{"zzz":1}`, "host/NABCDEFGHIJK  \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := lattice.Event{Type: lattice.EventTypePrefix + tt.typ, Source: "spore/host/NABCDEFGHIJKLMNOP", Time: at, Data: json.RawMessage(tt.data)}
			var b bytes.Buffer
			if err := (&globals{output: "table"}).printEvent(&b, ev); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("line:\n%q\nwant it to hold\n%q", b.String(), tt.want)
			}
			b.Reset()
			if err := (&globals{output: "json"}).printEvent(&b, ev); err != nil {
				t.Fatal(err)
			}
			var back lattice.Event
			if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Type != ev.Type || strings.Count(b.String(), "\n") != 1 {
				t.Errorf("JSON line %q: %v", b.String(), err)
			}
		})
	}
}

func TestEventFilter(t *testing.T) {
	actorID := "UB5BE6LPAHSBLCIKVXH6SCXEAIPCVL6ZYZIDQ5VNL6HQESHVU4XBEGP5"
	ev := func(typ, data string) lattice.Event {
		return lattice.Event{Type: lattice.EventTypePrefix + typ, Data: json.RawMessage(data)}
	}
	started := ev("actor_started", `{"id":"`+actorID+`","name":"echo","call_alias":"parrot"}`)
	link := ev("link_put", `{"actor_id":"`+actorID+`"}`)
	beat := ev("host_heartbeat", `{"id":"NABC"}`)
	tests := []struct {
		name   string
		filter eventFilter
		ev     lattice.Event
		want   bool
	}{
		{"no filter", eventFilter{}, beat, true},
		{"type", eventFilter{types: []string{"host_heartbeat"}}, beat, true},
		{"full type", eventFilter{types: []string{"dev.spore.host_heartbeat"}}, beat, true},
		{"pattern", eventFilter{types: []string{"actor_*"}}, started, true},
		{"pattern misses", eventFilter{types: []string{"actor_*"}}, beat, false},
		{"second type", eventFilter{types: []string{"link_*", "host_*"}}, beat, true},
		{"actor by id", eventFilter{actor: actorID, actorID: actorID}, link, true},
		{"actor by name, resolved", eventFilter{actor: "echo", actorID: actorID}, link, true},
		{"actor by name, unresolved", eventFilter{actor: "echo"}, started, true},
		{"actor by alias", eventFilter{actor: "parrot"}, started, true},
		{"other actor", eventFilter{actor: "other"}, started, false},
		{"host event", eventFilter{actor: "echo", actorID: actorID}, beat, false},
		{"garbage data", eventFilter{actor: "echo"}, ev("actor_started", `nope`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.match(tt.ev); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzEventLine feeds event data from the lattice (anyone on NATS can
// publish an event) to the filter and both renderings: none may panic.
func FuzzEventLine(f *testing.F) {
	f.Add("actor_started", `{"name":"echo","id":"UB5BE6LP","instances":2}`)
	f.Add("host_heartbeat", `{"labels":{"a":"b"},"actors":[1,2],"providers":null}`)
	f.Add("x", `[`)
	f.Add("", `"\u0000"`)
	f.Add("a*[", `{"id":{"nested":[{"deep":true}]},"reason":12.5}`)
	f.Fuzz(func(t *testing.T, typ, data string) {
		ev := lattice.Event{Type: typ, Source: typ, Data: json.RawMessage(data)}
		for _, f := range []eventFilter{{}, {types: []string{typ}}, {actor: typ, actorID: typ}} {
			f.match(ev)
		}
		var b bytes.Buffer
		_ = (&globals{output: "table"}).printEvent(&b, ev)
		_ = (&globals{output: "json"}).printEvent(&b, ev)
	})
}
