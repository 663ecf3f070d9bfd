package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/store"
)

// waitExit waits for a daemon started as cmd to exit 0 within d after
// what (a signal, its input ending); it kills it and fails otherwise,
// with what the daemon wrote to a standard error kept in a buffer.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			stderr := ""
			if b, ok := cmd.Stderr.(fmt.Stringer); ok {
				stderr = b.String()
			}
			t.Fatalf("exit after %s: %v\n%s", what, err, stderr)
		}
	case <-time.After(d):
		cmd.Process.Kill()
		t.Fatalf("still running %v after %s", d, what)
	}
}

// openDaemonLog opens the event log of the daemon run with config cfg,
// once it has stopped: the lock must be free at once.
func openDaemonLog(t *testing.T, cfg string) *store.Log {
	t.Helper()
	c, err := LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hubKey, err := c.hubKey()
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.OpenLog(filepath.Join(c.dataDir(), logFile), store.LogOptions{Hub: hubKey, LockTimeout: time.Second})
	if err != nil {
		t.Fatalf("reopen the log: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func writeWhitePNG(t *testing.T, name string) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
