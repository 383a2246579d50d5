package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/spore-run/spore/signing"
)

func keysCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Make the keys that sign actors and secure a lattice"}
	var out string
	gen := &cobra.Command{
		Use:   "gen account|actor|host|cluster",
		Short: "Generate a key pair, write its seed (mode 0600) and print its public key",
		Long: `Generate a key pair of one kind:

  account  an issuer that signs actors (A…)
  actor    an actor's stable identity, its claims subject (U…)
  host     a host's identity (N…)
  cluster  the lattice key that signs invocations between hosts (C…)

The seed is written to --out (default $SPORE_HOME/keys). Keep seeds secret:
anyone with an account seed can sign actors your hosts trust.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			kind, err := signing.ParseKeyKind(a[0])
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			kp, err := signing.NewKey(kind)
			if err != nil {
				return err
			}
			dir := out
			if dir == "" {
				dir = g.keyDir()
			}
			path, err := signing.WriteKey(dir, kind, kp)
			if err != nil {
				return err
			}
			pub, _ := kp.PublicKey()
			res := struct {
				Kind      string `json:"kind"`
				PublicKey string `json:"public_key"`
				SeedFile  string `json:"seed_file"`
			}{string(kind), pub, path}
			return g.emit(cmd, res, func(w io.Writer) {
				row(w, "KIND", "PUBLIC KEY", "SEED FILE")
				row(w, res.Kind, res.PublicKey, res.SeedFile)
			})
		},
	}
	gen.Flags().StringVar(&out, "out", "", "directory for the seed file (default $SPORE_HOME/keys)")
	cmd.AddCommand(gen)
	return cmd
}

// namedKey loads path if given; otherwise it loads, or makes and keeps,
// $SPORE_HOME/keys/<name>.nk, so signing the same actor twice keeps its
// identity and the same issuer signs everything by default. made reports a
// new key.
func (g *globals) namedKey(path string, kind signing.KeyKind, name string) (kp nkeys.KeyPair, file string, made bool, err error) {
	if path != "" {
		kp, err = signing.LoadKey(path)
		return kp, path, false, err
	}
	file = filepath.Join(g.keyDir(), name+".nk")
	if _, statErr := os.Stat(file); statErr == nil {
		kp, err = signing.LoadKey(file)
		return kp, file, false, err
	}
	if kp, err = signing.NewKey(kind); err != nil {
		return nil, "", false, err
	}
	seed, _ := kp.Seed()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, "", false, fmt.Errorf("keys: %w", err)
	}
	if err := os.WriteFile(file, append(seed, '\n'), 0o600); err != nil {
		return nil, "", false, fmt.Errorf("keys: %w", err)
	}
	return kp, file, true, nil
}
