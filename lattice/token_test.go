package lattice

import (
	"encoding/hex"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/spore-run/spore"
)

// TestTokenVector checks the token of the invocation docs/protocol.md gives
// as a test vector for other implementations, so the two cannot drift.
func TestTokenVector(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	seed, err := nkeys.EncodeSeed(nkeys.PrefixByteCluster, raw)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewClusterKey(kp)
	if err != nil {
		t.Fatal(err)
	}
	inv := &Invocation{
		ID: "id1", Origin: "client", Target: "keyvalue", Operation: "KeyValue.Get", Payload: []byte{0xa1, 'k'},
		Link: &spore.Link{ActorID: "UA", Contract: "spore:keyvalue", LinkName: "default", Provider: "keyvalue",
			Values: map[string]string{"bucket": "b"}},
		Trace:    map[string]string{"traceparent": "00-1-2-01"},
		Deadline: 1700000000000000000,
	}
	k.Sign(inv)
	const (
		wantSeed   = "SCAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4HYO7Q"
		wantFields = "0369643106636c69656e7400086b657976616c75650c4b657956616c75652e4765740002a16b1955412e73706f72655f6b657976616c75652e64656661756c74086b657976616c756501066275636b65740162010b7472616365706172656e740930302d312d322d303117979cfe362a0000"
		wantToken  = "57a9ee46a3c3834e53cb353e24f6c52d31f10ff1eac13a0999789bfc6ce8155b"
	)
	if string(seed) != wantSeed {
		t.Errorf("seed = %s, want %s", seed, wantSeed)
	}
	if got := hex.EncodeToString(inv.Fields()); got != wantFields {
		t.Errorf("fields = %s, want %s", got, wantFields)
	}
	if got := hex.EncodeToString(inv.Token); got != wantToken {
		t.Errorf("token = %s, want %s", got, wantToken)
	}
	if err := k.Verify(inv); err != nil {
		t.Errorf("the vector does not verify: %v", err)
	}
}
