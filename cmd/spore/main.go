// Command spore runs signed WebAssembly actors on a NATS lattice.
package main

import (
	"os"

	"github.com/spore-run/spore/cli"
)

func main() { os.Exit(cli.Main()) }
