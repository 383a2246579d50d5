package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/logging"
)

func runCommand(g *globals) *cobra.Command {
	var (
		jsonPayload string
		timeout     time.Duration
		memory      uint64
		trusted     []string
	)
	cmd := &cobra.Command{
		Use:   "run ACTOR.wasm OPERATION [PAYLOAD]",
		Short: "Run one invocation of an actor in a local host, with no lattice",
		Long: `Load a signed actor into a host inside this process, call one operation, print
the raw response to stdout and exit. Calls the actor makes to spore:logging are
served in-process; calls to other contracts are refused, as they would be on a
host with no link. PAYLOAD "-" reads the payload from stdin; --json encodes a
JSON value as MessagePack first.`,
		Example: `  spore run hello_s.wasm Hello world
  spore run counter_s.wasm Increment --json '{"key":"a","delta":1}'`,
		Args: args(2, 3),
		RunE: func(cmd *cobra.Command, a []string) error {
			payload, err := readPayload(cmd, a[2:], jsonPayload)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			module, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			ctx := cmd.Context()
			log := g.logger(cmd.ErrOrStderr())
			provs := lattice.NewLocalProviders()
			defer provs.StopAll(ctx)
			if _, err := provs.Start(ctx, logging.Name, providers.Env{Log: log}); err != nil {
				return err
			}
			cfg := host.NewConfig().WithCacheDir(g.cacheDir()).WithLogger(log).WithRouter(provs).
				WithLimits(host.Limits{Timeout: timeout, MemoryLimit: memory, Warm: 1, MaxInstances: 1}).
				WithTrustedIssuers(splitList(trusted)...)
			h, err := host.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer h.Close(ctx)
			g.progress(cmd, "loading %s", a[0])
			start := time.Now()
			actor, err := h.Load(ctx, module, host.Limits{})
			if err != nil {
				return err
			}
			loaded := time.Since(start)
			start = time.Now()
			out, err := actor.Invoke(ctx, a[1], payload)
			if err != nil {
				return err
			}
			if g.output == "json" {
				res := struct {
					Actor     string          `json:"actor"`
					ID        string          `json:"id"`
					Operation string          `json:"operation"`
					Response  json.RawMessage `json:"response"`
					LoadMs    float64         `json:"load_ms"`
					CallMs    float64         `json:"call_ms"`
				}{actor.Claims().Name, actor.ID(), a[1], jsonBytes(out),
					ms(loaded), ms(time.Since(start))}
				return g.emit(cmd, res, nil)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&jsonPayload, "json", "", "payload as JSON, sent as MessagePack")
	f.DurationVar(&timeout, "timeout", host.DefaultTimeout, "deadline of the invocation")
	f.Uint64Var(&memory, "memory-limit", host.DefaultMemoryLimit, "memory limit of the instance, in bytes")
	f.StringArrayVar(&trusted, "trusted-issuer", nil, "refuse modules signed by any other account key (repeat)")
	return cmd
}

// readPayload takes the payload from the argument, stdin ("-") or --json.
func readPayload(cmd *cobra.Command, rest []string, jsonPayload string) ([]byte, error) {
	switch {
	case jsonPayload != "" && len(rest) > 0:
		return nil, fmt.Errorf("give the payload as an argument or with --json, not both")
	case jsonPayload != "":
		var v any
		if err := json.Unmarshal([]byte(jsonPayload), &v); err != nil {
			return nil, fmt.Errorf("--json: %w", err)
		}
		return msgpack.Marshal(v)
	case len(rest) == 1 && rest[0] == "-":
		return io.ReadAll(cmd.InOrStdin())
	case len(rest) == 1:
		return []byte(rest[0]), nil
	}
	return nil, nil
}

// jsonBytes shows a response in JSON: as a string when it is UTF-8 text,
// else as base64.
func jsonBytes(b []byte) json.RawMessage {
	var v any = b
	if utf8.Valid(b) {
		v = string(b)
	}
	out, _ := json.Marshal(v)
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
