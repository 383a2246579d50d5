package lattice

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
)

// TestWriteBehind: what goes in comes out of the pipe whole and in order,
// past the point where Write has to wait for the reader; Close delivers
// what still waits before it closes; a Write after Close fails.
func TestWriteBehind(t *testing.T) {
	client, server := net.Pipe()
	w := newWriteBehind(client)
	var want bytes.Buffer
	chunks := [][]byte{make([]byte, writeBehindMax+1)} // more than may wait at once
	for i := range 2000 {
		chunks = append(chunks, bytes.Repeat([]byte{byte(i)}, 1+rand.IntN(3000)))
	}
	for _, c := range chunks {
		want.Write(c)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(server)
		got <- b
	}()
	for _, c := range chunks {
		if n, err := w.Write(c); n != len(c) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(c))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("the reader got %d bytes, not the %d written, in order", len(b), want.Len())
	}
	if _, err := w.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v, want net.ErrClosed", err)
	}
}

// TestWriteBehindReaderGone: when the other end closes, writes fail rather
// than wait for ever.
func TestWriteBehindReaderGone(t *testing.T) {
	client, server := net.Pipe()
	w := newWriteBehind(client)
	defer w.Close()
	server.Close()
	var err error
	for i := 0; err == nil && i < 100; i++ {
		_, err = w.Write(make([]byte, writeBehindMax))
	}
	if err == nil {
		t.Fatal("writes to a closed pipe kept succeeding")
	}
}
