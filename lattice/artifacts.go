package lattice

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/signing"
)

// Artifact is a pushed actor module in the lattice's object store. The
// module is stored once under its digest; name:version and name (the latest
// push) are object-store links to it.
type Artifact struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	Ref      string    `json:"ref"`    // name:version
	Digest   string    `json:"digest"` // sha256:<hex> of the signed module
	Size     int       `json:"size"`
	ActorID  string    `json:"actor_id"`
	Revision int       `json:"revision"`
	PushedAt time.Time `json:"pushed_at"`
}

// Push verifies a signed module's claims and stores it. progress, if set, is
// told how many bytes have been sent.
func (s *State) Push(ctx context.Context, module []byte, progress func(sent, total int)) (*Artifact, error) {
	c, err := signing.Verify(module, signing.VerifyOptions{})
	if err != nil {
		return nil, fmt.Errorf("lattice: push: %w", err)
	}
	sum := sha256.Sum256(module)
	a := &Artifact{
		Name:     c.Name,
		Version:  versionOf(c),
		Digest:   "sha256:" + hex.EncodeToString(sum[:]),
		Size:     len(module),
		ActorID:  c.ID,
		Revision: c.Revision,
		PushedAt: time.Now().UTC(),
	}
	a.Ref = a.Name + ":" + a.Version
	var r io.Reader = bytes.NewReader(module)
	if progress != nil {
		r = &progressReader{r: r, total: len(module), f: progress}
	}
	info, err := s.Artifacts.GetInfo(ctx, a.Digest)
	if err != nil {
		if !errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("lattice: push %s: %w", a.Ref, err)
		}
		info, err = s.Artifacts.Put(ctx, jetstream.ObjectMeta{
			Name:        a.Digest,
			Description: a.Ref,
			Headers:     map[string][]string{"Spore-Actor": {c.ID}, "Spore-Ref": {a.Ref}},
		}, r)
		if err != nil {
			return nil, fmt.Errorf("lattice: push %s: %w", a.Ref, err)
		}
	} else if progress != nil {
		progress(len(module), len(module))
	}
	for _, name := range []string{a.Ref, a.Name} {
		if _, err := s.Artifacts.AddLink(ctx, name, info); err != nil {
			return nil, fmt.Errorf("lattice: push: name %s: %w", name, err)
		}
	}
	return a, nil
}

func versionOf(c *signing.Claims) string {
	if c.Version != "" {
		return c.Version
	}
	return "r" + strconv.Itoa(c.Revision)
}

// Fetch returns the module a reference names: name:version, name (the
// latest push) or sha256:<hex>. The digest is checked on the way out.
func (s *State) Fetch(ctx context.Context, ref string) ([]byte, error) {
	b, err := s.Artifacts.GetBytes(ctx, ref)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: no artifact %q in the lattice: push it with 'spore push'", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("lattice: fetch %s: %w", ref, err)
	}
	if digest, ok := strings.CutPrefix(ref, "sha256:"); ok {
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != digest {
			return nil, fmt.Errorf("lattice: fetch %s: content does not match its digest", ref)
		}
	}
	return b, nil
}

// ListArtifacts lists the pushed modules by their name:version references.
func (s *State) ListArtifacts(ctx context.Context) ([]*jetstream.ObjectInfo, error) {
	list, err := s.Artifacts.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	return list, err
}

type progressReader struct {
	r     io.Reader
	sent  int
	total int
	f     func(sent, total int)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += n
	if n > 0 || err == io.EOF {
		p.f(p.sent, p.total)
	}
	return n, err
}
