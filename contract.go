package spore

import "strings"

// Contract ids of the built-in contracts. A contract id always holds a colon;
// actor ids and call aliases never do, which is how a host call's namespace is
// told apart.
const (
	ContractHTTPServer = "spore:httpserver"
	ContractKeyValue   = "spore:keyvalue"
	ContractMessaging  = "spore:messaging"
	ContractHTTPClient = "spore:httpclient"
	ContractLogging    = "spore:logging"
	// ContractActor is the claim an actor needs to call other actors.
	ContractActor = "spore:actor"
)

// DefaultLinkName is the link name used when a host call or a link names none.
const DefaultLinkName = "default"

// IsContractID reports whether a host call namespace names a contract rather
// than an actor.
func IsContractID(ns string) bool { return strings.Contains(ns, ":") }

// Unlinked reports whether a contract is served without a link: the claim
// alone grants it.
func Unlinked(contract string) bool {
	return contract == ContractLogging || contract == ContractActor
}

// LinkName returns name, or DefaultLinkName when name is empty.
func LinkName(name string) string {
	if name == "" {
		return DefaultLinkName
	}
	return name
}
