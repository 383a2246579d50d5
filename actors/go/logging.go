package actor

import (
	spore "github.com/spore-run/spore"
)

// Log levels of Logging.Write.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Logger writes to the host log through the spore:logging contract (the
// claim is needed, no link). Use the package's [Log] value.
type Logger struct{}

// Log is the actor's logger.
//
//	actor.Log.Info("order " + id + " accepted")
var Log Logger

// Write writes text at level (see the Level constants) and returns the host's
// error, if any.
func (Logger) Write(level, text string) error {
	entry := spore.LogEntry{Level: level, Text: text}
	_, err := invoke("", spore.ContractLogging, spore.OpLoggingWrite, func(b []byte) []byte { return appendLogEntry(b, &entry) })
	return err
}

// Debug, Info, Warn and Error write text at their level. They never fail: if
// Logging.Write is refused (no spore:logging claim, say), the line goes to
// [ConsoleLog] instead, prefixed by its level.
func (l Logger) Debug(text string) { l.write(LevelDebug, text) }

// Info writes text at level info; see [Logger.Debug].
func (l Logger) Info(text string) { l.write(LevelInfo, text) }

// Warn writes text at level warn; see [Logger.Debug].
func (l Logger) Warn(text string) { l.write(LevelWarn, text) }

// Error writes text at level error; see [Logger.Debug].
func (l Logger) Error(text string) { l.write(LevelError, text) }

func (l Logger) write(level, text string) {
	if l.Write(level, text) != nil {
		ConsoleLog(level + ": " + text)
	}
}
