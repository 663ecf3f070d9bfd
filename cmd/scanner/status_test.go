package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

func TestStatus(t *testing.T) {
	cfg, _, dataDir := stdinConfig(t, `root_key = "root.pub"`)
	dir := filepath.Dir(cfg)
	if r := runMain(t, t0, "keygen", "-o", filepath.Join(dir, "root")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	root, err := readPrivateKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Sign and cache a key set, a status list and a policy, as sync would.
	ks, _ := scanner.SignKeySet(&scanner.KeySet{Version: 4, IssuedAt: t0.Unix()}, root)
	l, _ := scanner.NewStatusList("compound-7", 12, t0.Add(time.Hour), 100)
	sl, _ := scanner.SignStatusList(l, root)
	p := scanner.DefaultPolicy("main")
	p.Version, p.IssuedAt = 3, t0.Unix()
	pol, _ := scanner.SignPolicy(p, root)
	os.MkdirAll(dataDir, 0o700)
	tc, err := store.OpenTrust(filepath.Join(dataDir, trustFile), store.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tc.PutDoc("keyset", "keyset", ks)
	tc.PutDoc("status", "compound-7", sl)
	tc.PutDoc("policy", "main", pol)
	tc.PutDoc("policy", "forged", append(append([]byte{}, pol[:len(pol)-1]...), pol[len(pol)-1]^1))
	tc.Close()

	r := runMain(t, t0.Add(2*time.Hour), "status", "-config", cfg, "-json")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"keyset/keyset": 4, "status/compound-7": 12, "policy/main": 3}
	for _, d := range rep.Trust {
		key := d.Kind + "/" + d.Name
		if key == "policy/forged" {
			if d.Error == "" {
				t.Error("a forged policy shown as valid")
			}
			continue
		}
		if d.Error != "" || d.Version != want[key] {
			t.Errorf("%s: version %d (%s), want %d", key, d.Version, d.Error, want[key])
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("missing %v", want)
	}
	if len(rep.Files) != 2 || rep.Files[0].Size == 0 || len(rep.Check) != 2 || !rep.Check[1].OK {
		t.Errorf("files %+v checks %+v", rep.Files, rep.Check)
	}
	// Nothing logged yet: no time floor, not the year 1.
	if r := runMain(t, t0, "status", "-config", cfg); r.code != 0 || !strings.Contains(r.stdout, "none yet (nothing logged)") || strings.Contains(r.stdout, "0001-01-01") {
		t.Errorf("text status: %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// Ctrl-C at a status or emergency that opens the files itself (no daemon
// answers) does not cut its open short: the store counts an open that
// began and never finished as one that crashed, and moves a file aside as
// damaged after three. Here the file is held by another process, so that
// each command waits for it (its open begun), and is interrupted there.
func TestInterruptedWhileOpening(t *testing.T) {
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("signals to a child under qemu-user are not what this tests")
	}
	for _, tt := range []struct {
		command, file string
	}{{"status", trustFile}, {"emergency", logFile}} {
		cfg, _, dataDir, hub := stdinConfigHub(t, "")
		os.MkdirAll(dataDir, 0o700)
		path := filepath.Join(dataDir, tt.file)
		open := func() (interface {
			Recovery() *store.Recovery
			Close() error
		}, error) {
			if tt.file == logFile {
				return store.OpenLog(path, store.LogOptions{Hub: hub.Public()})
			}
			return store.OpenTrust(path, store.TrustOptions{})
		}
		held, err := open()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			before, err := os.ReadFile(path + ".sidecar")
			if err != nil {
				t.Fatal(err)
			}
			args := []string{tt.command, "-config", cfg}
			if tt.command == "emergency" {
				args = append(args, "on")
			}
			cmd := childMain(args...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			// Its open has begun once it noted the attempt in the sidecar.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if now, _ := os.ReadFile(path + ".sidecar"); !bytes.Equal(now, before) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s %d: its open never began", tt.command, i)
				}
			}
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
		held.Close()
		again, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if r := again.Recovery(); r != nil {
			t.Errorf("three %s commands interrupted while opening: %s moved aside as damaged: %v", tt.command, tt.file, r.Problems)
		}
		again.Close()
	}
}
