package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/signing"
)

func inspectCommand(g *globals) *cobra.Command {
	var trusted []string
	cmd := &cobra.Command{
		Use:   "inspect ACTOR.wasm",
		Short: "Verify an actor's claims and show them",
		Long: `Verify an actor module's signed claims (signature, hash of the code, validity
window, and the issuer when --trusted-issuer is given) and show them. It fails,
naming the rule, for an unsigned, tampered, expired or badly signed module.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			module, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("inspect: %w", err)
			}
			c, err := signing.Verify(module, signing.VerifyOptions{TrustedIssuers: splitList(trusted)})
			if err != nil {
				return fmt.Errorf("inspect %s: %w", a[0], err)
			}
			return g.emitClaims(cmd, c, a[0])
		},
	}
	cmd.Flags().StringArrayVar(&trusted, "trusted-issuer", nil, "refuse modules signed by any other account key (repeat)")
	return cmd
}
