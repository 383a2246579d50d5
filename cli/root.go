package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the spore command with os.Args and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewCommand()
	if err := cmd.ExecuteContext(ctx); err != nil {
		var ue usageError
		if strings.HasPrefix(err.Error(), "unknown command") {
			fmt.Fprintf(os.Stderr, "spore: %v\nRun 'spore --help' for the commands.\n", err)
			return 2
		}
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "spore: %v\nRun '%s --help' for usage.\n", err, ue.cmd)
			return 2
		}
		fmt.Fprintf(os.Stderr, "spore: %v\n", err)
		return 1
	}
	return 0
}

// globals are the flags every command shares.
type globals struct {
	output   string
	natsURL  string
	lattice  string
	logLevel string
	home     string
}

// NewCommand returns the root command with every subcommand.
func NewCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "spore",
		Short:         "Run signed WebAssembly actors on a NATS lattice",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "table" && g.output != "json" {
				return usageError{cmd.CommandPath(), fmt.Errorf("-o %q: want table or json", g.output)}
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{cmd.CommandPath(), err}
	})
	pf := root.PersistentFlags()
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&g.natsURL, "nats", envOr("SPORE_NATS", "nats://127.0.0.1:4222"), "NATS URL of the lattice (env SPORE_NATS)")
	pf.StringVar(&g.lattice, "lattice", envOr("SPORE_LATTICE", "default"), "lattice id (env SPORE_LATTICE)")
	pf.StringVar(&g.logLevel, "log-level", envOr("SPORE_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	pf.StringVar(&g.home, "home", envOr("SPORE_HOME", defaultHome()), "where spore keeps keys and caches (env SPORE_HOME)")
	root.AddCommand(
		keysCommand(g),
		signCommand(g),
		inspectCommand(g),
		runCommand(g),
	)
	for _, add := range extraCommands {
		root.AddCommand(add(g))
	}
	attachProviderRun(root, g) // provider_run.go
	return root
}

// extraCommands lets other files of this package add command groups.
var extraCommands []func(*globals) *cobra.Command

// usageError is a mistake in how a command was called: exit code 2.
type usageError struct {
	cmd string
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// args checks the positional argument count with a usage error.
func args(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) < min || (max >= 0 && len(a) > max) {
			return usageError{cmd.CommandPath(), fmt.Errorf("%s: wrong number of arguments (%d); usage: %s", cmd.Name(), len(a), cmd.UseLine())}
		}
		return nil
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".spore")
	}
	return ".spore"
}

// logger returns a structured log on stderr at the chosen level.
func (g *globals) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if g.output == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cacheDir is where compiled modules are kept between runs:
// $SPORE_CACHE_DIR, or the cache under --home.
func (g *globals) cacheDir() string {
	if d := os.Getenv("SPORE_CACHE_DIR"); d != "" {
		return d
	}
	return filepath.Join(g.home, "cache", "wazero")
}

// keyDir is where spore keeps the keys it generates for the user.
func (g *globals) keyDir() string { return filepath.Join(g.home, "keys") }
