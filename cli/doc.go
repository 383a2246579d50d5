// Package cli is the spore command. Each file holds one command group; root.go
// wires them and the flags every command shares.
//
// Every command writes its result to stdout, as a table for people or as
// JSON with -o json, and its errors to stderr with a non-zero exit. Progress
// of long operations goes to stderr, so stdout stays parseable.
package cli
