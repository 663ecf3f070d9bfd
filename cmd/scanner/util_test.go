package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// writeKeyFiles writes, in dir, an issuer public key k.pub and a hub
// sealing key hub.pub, as a config names them, and returns the sealing
// key's text.
func writeKeyFiles(t testing.TB, dir string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), scanner.MarshalPublicKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hub.pub"), []byte(hub.Public().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return hub.Public().String()
}

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
	l, err := store.OpenLog(filepath.Join(c.dataDir(), logFile), store.LogOptions{Hub: c.hubSeal, LockTimeout: time.Second})
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
