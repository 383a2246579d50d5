package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/signing"
)

func signCommand(g *globals) *cobra.Command {
	var (
		name, ver, issuer, subject, alias string
		rev                               int
		caps, tags, outs                  []string
		expires                           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "sign IN.wasm -o OUT.wasm --name N [--cap C]...",
		Short: "Embed signed claims in an actor module",
		Long: `Sign an actor: embed a JWT with its name, version, revision, capabilities
and the hash of its code in a spore_jwt custom section.

Without --issuer, spore signs with $SPORE_HOME/keys/issuer.nk (made on first
use). Without --subject, the actor's identity key is
$SPORE_HOME/keys/actors/NAME.nk (made on first use), so signing the same
name again with a higher --rev upgrades the same actor.`,
		Example: `  spore sign hello.wasm -o hello_s.wasm --name hello --cap spore:logging
  spore sign counter.wasm -o counter_s.wasm --name counter --rev 2 \
      --cap spore:httpserver --cap spore:keyvalue`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			out, err := g.outputOrFile(outs)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			if out == "" {
				return usageError{cmd.CommandPath(), fmt.Errorf("sign: -o OUT.wasm is required: where to write the signed module")}
			}
			if name == "" {
				return usageError{cmd.CommandPath(), fmt.Errorf("sign: --name is required")}
			}
			module, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			iss, issFile, madeIss, err := g.namedKey(issuer, signing.KindAccount, "issuer")
			if err != nil {
				return fmt.Errorf("sign: issuer key: %w", err)
			}
			sub, subFile, madeSub, err := g.namedKey(subject, signing.KindActor, "actors/"+name)
			if err != nil {
				return fmt.Errorf("sign: subject key: %w", err)
			}
			if madeIss {
				g.progress(cmd, "made issuer key %s", issFile)
			}
			if madeSub {
				g.progress(cmd, "made identity key for %s: %s", name, subFile)
			}
			id, _ := sub.PublicKey()
			c := signing.Claims{ID: id, Name: name, Version: ver, Revision: rev, Tags: tags,
				Caps: splitList(caps), CallAlias: alias}
			if expires > 0 {
				c.Expires = time.Now().Add(expires)
			}
			signed, claims, err := signing.Sign(module, c, iss)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, signed, 0o644); err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			return g.emitClaims(cmd, claims, out)
		},
	}
	f := cmd.Flags()
	// SPEC gives sign "-o OUT.wasm" while every command takes "-o json":
	// sign's -o takes both, and may be repeated.
	f.StringArrayVarP(&outs, "output", "o", nil, "OUT.wasm to write, or the output format (json or table); repeatable")
	f.StringVar(&name, "name", "", "the actor's name")
	f.StringVar(&ver, "ver", "", "a human version, such as 1.2.0")
	f.IntVar(&rev, "rev", 1, "revision; a higher one upgrades the same actor")
	f.StringArrayVar(&caps, "cap", nil, "a contract the actor may use, such as spore:keyvalue (repeat, or comma separated)")
	f.StringArrayVar(&tags, "tag", nil, "a free-form tag (repeat)")
	f.StringVar(&issuer, "issuer", "", "account seed file that signs (default $SPORE_HOME/keys/issuer.nk)")
	f.StringVar(&subject, "subject", "", "actor seed file: the actor's identity (default $SPORE_HOME/keys/actors/NAME.nk)")
	f.StringVar(&alias, "call-alias", "", "a friendly name other actors may call this one by")
	f.DurationVar(&expires, "expires", 0, "validity from now, such as 720h (default: never expires)")
	return cmd
}

// outputOrFile sorts sign's -o values into the output format and the file.
func (g *globals) outputOrFile(values []string) (file string, err error) {
	for _, v := range values {
		switch v {
		case "json", "table":
			g.output = v
		default:
			if file != "" {
				return "", fmt.Errorf("sign: two output files given: %s and %s", file, v)
			}
			file = v
		}
	}
	return file, nil
}

// splitList accepts repeated and comma separated values alike.
func splitList(in []string) []string {
	var out []string
	for _, v := range in {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// emitClaims shows claims as a table or JSON.
func (g *globals) emitClaims(cmd *cobra.Command, c *signing.Claims, file string) error {
	view := struct {
		File string `json:"file,omitempty"`
		*signing.Claims
	}{file, c}
	return g.emit(cmd, view, func(w io.Writer) {
		if file != "" {
			row(w, "File", file)
		}
		row(w, "Name", c.Name)
		row(w, "ID", c.ID)
		row(w, "Issuer", c.Issuer)
		row(w, "Version", orDash(c.Version))
		row(w, "Revision", c.Revision)
		row(w, "Capabilities", orDash(strings.Join(c.Caps, ", ")))
		row(w, "Call alias", orDash(c.CallAlias))
		row(w, "Tags", orDash(strings.Join(c.Tags, ", ")))
		row(w, "Issued", c.IssuedAt.Format(time.RFC3339))
		row(w, "Expires", timeOrNever(c.Expires))
		row(w, "Not before", timeOrNever(c.NotBefore))
		row(w, "Hash", c.Hash)
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrNever(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}
