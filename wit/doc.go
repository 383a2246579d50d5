// Package wit holds Spore's contracts in WIT, one file per contract:
// httpserver.wit, keyvalue.wit, messaging.wit, httpclient.wit and
// logging.wit. They are the written source of every operation and payload
// type; README.md states how each WIT type travels as MessagePack.
//
// The package has no Go API. Its test parses the WIT records and functions
// and checks them against the payload types and operation names of the root
// package (github.com/spore-run/spore), so the two cannot drift apart.
package wit
