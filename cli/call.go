package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
)

func callCommand(g *globals) *cobra.Command {
	var (
		jsonPayload string
		timeout     time.Duration
		lf          *latticeFlags
	)
	cmd := &cobra.Command{
		Use:   "call ACTOR OPERATION [PAYLOAD | --json JSON]",
		Short: "Invoke an operation on an actor, wherever in the lattice it runs",
		Long: `Send one signed invocation to an actor (named by id, call alias or claims
name) on whichever host runs it, and write the raw response to stdout. When
several hosts run it, one of them answers. PAYLOAD "-" reads stdin; --json
encodes a JSON value as MessagePack first. With -o json the response is a
JSON string (text) or base64 (binary), with the call's duration.`,
		Example: `  spore call hello Hello world
  spore call counter Increment --json '{"key":"a","delta":1}'`,
		Args: args(2, 3),
		RunE: func(cmd *cobra.Command, a []string) error {
			payload, err := readPayload(cmd, a[2:], jsonPayload)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				ctx, cancel := withTimeout(cmd.Context(), timeout)
				defer cancel()
				start := time.Now()
				out, err := c.Call(ctx, a[0], a[1], payload)
				if err != nil {
					return fmt.Errorf("call %s %s: %w", a[0], a[1], err)
				}
				if g.output == "json" {
					res := struct {
						Actor     string          `json:"actor"`
						Operation string          `json:"operation"`
						Response  json.RawMessage `json:"response"`
						CallMs    float64         `json:"call_ms"`
					}{a[0], a[1], jsonBytes(out), ms(time.Since(start))}
					return g.emit(cmd, res, nil)
				}
				_, err = cmd.OutOrStdout().Write(out)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&jsonPayload, "json", "", "payload as JSON, sent as MessagePack")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "deadline of the call")
	lf = addLatticeFlags(g, cmd)
	return cmd
}
