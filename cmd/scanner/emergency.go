package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// emergencyFile, in the data folder, says whether emergency mode was
// switched on at the gate (`scanner emergency on`). It is kept on disk so
// that a gate restarted during an emergency — a power cut in a fire —
// comes back with its exit reads allowed.
const emergencyFile = "emergency"

// emergencySwitch is emergency mode switched at the gate, on top of the
// policy's own.
type emergencySwitch struct {
	path string
	mu   sync.Mutex // serialises Set
	on   atomic.Bool
	// problem is why the file could not be read at start or written
	// since ("" when it holds what is in effect).
	problem atomic.Pointer[string]
}

// loadEmergency reads the switch from dir: a file saying "on" or "off" (in
// any case), or no file (off). A file that cannot be read or says anything
// else leaves the switch off, with the problem recorded for the log and
// the status: the gate keeps running under its policy.
func loadEmergency(dir string) *emergencySwitch {
	e := &emergencySwitch{path: filepath.Join(dir, emergencyFile)}
	on, err := readEmergency(e.path)
	if err != nil {
		e.setProblem(err.Error())
	}
	e.on.Store(on)
	return e
}

func readEmergency(path string) (bool, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("emergency switch: %w", err)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("emergency switch %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("emergency switch: %w", err)
	}
	defer f.Close()
	// The whole file is judged: "on" and then, past a limit, anything
	// else is not "on".
	const most = 64
	b, err := io.ReadAll(io.LimitReader(f, most+1))
	if err != nil {
		return false, fmt.Errorf("emergency switch: %w", err)
	}
	if len(b) > most {
		return false, fmt.Errorf("emergency switch %s: over %d bytes, not on or off; taken as off", path, most)
	}
	switch strings.ToLower(strings.TrimSpace(string(b))) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("emergency switch %s: holds %.20q, not on or off; taken as off", path, b)
}

func (e *emergencySwitch) setProblem(p string) {
	if p == "" {
		e.problem.Store(nil)
		return
	}
	e.problem.Store(&p)
}

// On reports whether emergency mode is switched on.
func (e *emergencySwitch) On() bool { return e.on.Load() }

// Problem says why the switch on disk may not match the one in effect.
func (e *emergencySwitch) Problem() string {
	if p := e.problem.Load(); p != nil {
		return *p
	}
	return ""
}

// Set switches emergency mode at once, then records it on disk
// (store.WriteFileAtomic) so that a restart keeps it.
// In an emergency the switch must work even when the disk does not (a full
// or failing card): an error says it is in effect but not kept.
func (e *emergencySwitch) Set(on bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.on.Store(on)
	err := writeEmergency(e.path, on)
	if err != nil {
		e.setProblem(fmt.Sprintf("switched %s but not kept across a restart: %v", onOff(on), err))
	} else {
		e.setProblem("")
	}
	return err
}

func writeEmergency(path string, on bool) error {
	return store.WriteFileAtomic(path, []byte(onOff(on)+"\n"))
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// emergencyPolicy returns p with emergency mode on.
func emergencyPolicy(p *scanner.Policy) *scanner.Policy {
	c := *p
	c.Emergency = true
	return &c
}

// effectivePolicy is the policy the daemon decides under: the hub's signed
// policy for the site from the trust cache, else the config's.
func effectivePolicy(cfg *Config, t *scanner.Trust) *scanner.Policy {
	if p := t.Policies[cfg.Site]; p != nil {
		return p
	}
	return cfg.Policy
}
