package store_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
	"github.com/checkpointgate/checkpoint/store/storetest"
)

// quiet is a logger for tests that expect warnings.
var quiet = slog.New(slog.DiscardHandler)

func TestLogContract(t *testing.T) {
	storetest.RunLogContract(t, func(t *testing.T, dir string, cfg storetest.Config) storetest.Log {
		l, err := store.OpenLog(filepath.Join(dir, "events.db"), store.LogOptions{
			Hub:          cfg.Hub,
			StateHorizon: cfg.StateHorizon,
			Logger:       quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// testHub returns a hub key pair and an Opener for it.
func testHub(t testing.TB) (*seal.PrivateKey, *seal.Opener) {
	t.Helper()
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return priv, seal.NewOpener(priv)
}

func openLog(t testing.TB, path string, opt store.LogOptions) *store.Log {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = quiet
	}
	l, err := store.OpenLog(path, opt)
	if err != nil {
		t.Fatalf("OpenLog: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
