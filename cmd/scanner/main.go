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
	if len(os.Args) > 1 && os.Args[1] == "run" {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
