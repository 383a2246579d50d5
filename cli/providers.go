package cli

// The built-in providers register themselves with the providers package; a
// host can start only the ones linked into the binary.
import (
	_ "github.com/spore-run/spore/providers/httpclient"
	_ "github.com/spore-run/spore/providers/httpserver"
	_ "github.com/spore-run/spore/providers/keyvalue"
	_ "github.com/spore-run/spore/providers/logging"
	_ "github.com/spore-run/spore/providers/messaging"
)
