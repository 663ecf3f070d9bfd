package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := context.Background(), func() {}
	// The daemon takes SIGTERM and SIGINT as its cue to stop in order
	// (docs/gate.md, "Stopping"). Every other command is ended by them at
	// once, as any command is: Ctrl-C at override's reason prompt cancels
	// the override, rather than being ignored until a line is typed.
	// Those that open the store's files hold them meanwhile (holdSignals).
	if len(os.Args) > 1 && os.Args[1] == "run" {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// holdSignals keeps SIGINT and SIGTERM from ending a command until release
// is called, while it has the store's files open: the store takes an open
// that began and never finished for one that crashed, and moves a file
// aside as damaged after three (a trust cache so lost takes its signed
// documents with it). What is held is short: opening the files (each
// waiting at most a second for a daemon that holds it), reading them and
// closing them; the command then finishes as it would have.
func holdSignals() (release func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	return func() { signal.Stop(c) }
}
