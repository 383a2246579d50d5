package actor

import (
	"time"

	spore "github.com/spore-run/spore"
)

// KeyValueLink calls the spore:keyvalue contract through one link. The zero
// value uses the default link.
type KeyValueLink struct{ link string }

// KeyValue returns the key-value store linked under link ("" for the default
// link). The actor needs the spore:keyvalue claim and a link.
func KeyValue(link string) KeyValueLink { return KeyValueLink{link: link} }

// Get returns the value of key, and whether the key exists.
func (kv KeyValueLink) Get(key string) ([]byte, bool, error) {
	r, err := call(kv.link, spore.ContractKeyValue, spore.OpKVGet, keyPayload(key), decodeGetResponse)
	if err != nil {
		return nil, false, err
	}
	return r.Value, r.Exists, nil
}

// Set stores value under key. A ttl of zero or less means no expiry; a
// positive ttl is rounded up to whole seconds.
func (kv KeyValueLink) Set(key string, value []byte, ttl time.Duration) error {
	req := spore.SetRequest{Key: key, Value: value, TTLSeconds: seconds(ttl)}
	_, err := invoke(kv.link, spore.ContractKeyValue, spore.OpKVSet, func(b []byte) []byte { return appendSetRequest(b, &req) })
	return err
}

// Delete removes key and reports whether it existed.
func (kv KeyValueLink) Delete(key string) (bool, error) {
	return call(kv.link, spore.ContractKeyValue, spore.OpKVDelete, keyPayload(key), decodeBool)
}

// Exists reports whether key exists.
func (kv KeyValueLink) Exists(key string) (bool, error) {
	return call(kv.link, spore.ContractKeyValue, spore.OpKVExists, keyPayload(key), decodeBool)
}

// Increment adds delta to the integer stored under key (a missing key counts
// as 0) and returns the new value.
func (kv KeyValueLink) Increment(key string, delta int64) (int64, error) {
	req := spore.IncrementRequest{Key: key, Delta: delta}
	return call(kv.link, spore.ContractKeyValue, spore.OpKVIncrement, func(b []byte) []byte { return appendIncrementRequest(b, &req) }, decodeInt64)
}

// Keys returns the keys that start with prefix ("" for all keys).
func (kv KeyValueLink) Keys(prefix string) ([]string, error) {
	return call(kv.link, spore.ContractKeyValue, spore.OpKVKeys, keyPayload(prefix), decodeStrings)
}

// keyPayload encodes a payload that is one string.
func keyPayload(key string) func([]byte) []byte {
	return func(b []byte) []byte { return appendStr(b, key) }
}

// seconds rounds d up to whole seconds, clamped to the uint32 range; d <= 0
// is 0.
func seconds(d time.Duration) uint32 {
	return ceilDiv(d, time.Second)
}

// millis rounds d up to whole milliseconds, clamped to the uint32 range;
// d <= 0 is 0.
func millis(d time.Duration) uint32 {
	return ceilDiv(d, time.Millisecond)
}

func ceilDiv(d, unit time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	n := (d + unit - 1) / unit
	if n > 1<<32-1 || n <= 0 { // n <= 0: d+unit overflowed
		return 1<<32 - 1
	}
	return uint32(n)
}
