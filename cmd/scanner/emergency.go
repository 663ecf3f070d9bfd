package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/renameio/v2"
)

// emergencyFile, in the data folder, says whether emergency mode was
// switched on at the gate (`scanner emergency on`). It is kept on disk so
// that a gate restarted during an emergency — a power cut in a fire —
// comes back with its exits open.
const emergencyFile = "emergency"

// emergencySwitch is emergency mode switched at the gate, on top of the
// policy's own.
type emergencySwitch struct {
	path string
	mu   sync.Mutex // serialises Set
	on   atomic.Bool
}

// loadEmergency reads the switch from dir: "on" or "off", or no file (off).
func loadEmergency(dir string) (*emergencySwitch, error) {
	e := &emergencySwitch{path: filepath.Join(dir, emergencyFile)}
	b, err := os.ReadFile(e.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("emergency switch: %w", err)
	}
	switch strings.TrimSpace(string(b)) {
	case "on":
		e.on.Store(true)
	case "off":
	default:
		return nil, fmt.Errorf("emergency switch %s: holds %.20q, not on or off", e.path, b)
	}
	return e, nil
}

// On reports whether emergency mode is switched on.
func (e *emergencySwitch) On() bool { return e.on.Load() }

// Set switches emergency mode and records it durably before it takes
// effect.
func (e *emergencySwitch) Set(on bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	word := "off\n"
	if on {
		word = "on\n"
	}
	if err := renameio.WriteFile(e.path, []byte(word), 0o600); err != nil {
		return fmt.Errorf("emergency switch: %w", err)
	}
	// The rename is durable once the folder is.
	d, err := os.Open(filepath.Dir(e.path))
	if err != nil {
		return fmt.Errorf("emergency switch: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("emergency switch: %w", err)
	}
	e.on.Store(on)
	return nil
}
