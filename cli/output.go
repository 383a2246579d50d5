package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// emit writes v as indented JSON with -o json, or calls table otherwise.
func (g *globals) emit(cmd *cobra.Command, v any, table func(w io.Writer)) error {
	w := cmd.OutOrStdout()
	if g.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes tab-separated cells as one table row.
func row(w io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

// progress tells a person on stderr what a long operation is doing. It is
// silent with -o json, where stderr may be parsed too.
func (g *globals) progress(cmd *cobra.Command, format string, args ...any) {
	if g.output == "json" {
		return
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "> "+format+"\n", args...)
}
