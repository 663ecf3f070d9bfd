package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzConfig feeds any text to LoadConfig as a config file: it must never
// panic, an error must point at a line the file has, and a config it
// accepts must hold what the gate relies on.
func FuzzConfig(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "configs", "scanner.example.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	base := "site = \"main\"\nissuer_keys = [\"k.pub\"]\nhub_seal_key = \"hub.pub\"\n"
	for _, s := range []string{
		base + "[[input]]\nkind = \"stdin\"\ndirection = \"exit\"\n",
		base + "input = [{kind = \"folder\", path = \"p\", direction = \"entry\"}, {kind = \"stdin\"}]\n",
		base + "debounce = 5\n[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\n",
		base + "[policy.exit]\nquota = { count = 1, window = \"48h\" }\n[[input]]\nkind = \"camera\"\n",
		base + "[[hook]]\nexec = [\"sh\", \"-c\", \"\"\"\ncat >/dev/null # ]\n\"\"\"]\ntimeout = -1\n",
		base + "[relay]\npin = \"GPIO17\"\npulse = \"-1s\"\n[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\n",
		"a.b.c = [\n  1, # ]\n  'x',\n]\n[[ input ]]\n\"kind\"=\"serial\"\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	writeKeyFiles(f, dir) // so that configs naming them get past the keys
	f.Fuzz(func(t *testing.T, text string) {
		name := filepath.Join(dir, "gate.toml")
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		var c *Config
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err = LoadConfig(name)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("LoadConfig still running after 5s on %q", text)
		}
		if err != nil {
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a config error", err, err)
			}
			if lines := strings.Count(text, "\n") + 1; ce.line < 0 || ce.line > lines {
				t.Fatalf("error on line %d of a file of %d lines: %v", ce.line, lines, err)
			}
			return
		}
		if c.Site == "" || len(c.Inputs) == 0 || c.Policy == nil || c.HubSealKey == "" {
			t.Fatalf("accepted a config without its site, inputs, policy or hub key: %+v", c)
		}
		if err := c.Policy.Check(); err != nil {
			t.Fatalf("accepted a policy that fails its check: %v", err)
		}
		names := map[string]bool{}
		for _, in := range c.Inputs {
			if in.Name == "" || names[in.Name] {
				t.Fatalf("input name %q empty or twice", in.Name)
			}
			names[in.Name] = true
		}
	})
}
