package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
)

// Config is the gate's configuration: one TOML file. Relative paths are
// relative to the file's folder. Every zero value is a documented default.
type Config struct {
	// Site is the name of this gate's site, as passes and policies name
	// it. Required.
	Site string `toml:"site"`

	// DataDir holds the trust cache and the event log (default
	// "/var/lib/checkpoint").
	DataDir string `toml:"data_dir"`

	// ControlSocket is the Unix socket through which `scanner override`
	// and `scanner status` reach the running daemon (default
	// "control.sock" in DataDir). Only the daemon's user and root may use
	// it.
	ControlSocket string `toml:"control_socket"`

	// RootKey is the root public key file (scanner keygen's .pub): every
	// signed trust document must chain to it.
	RootKey string `toml:"root_key"`

	// IssuerKeys are pass-issuer public key files trusted directly, for a
	// gate that has no hub yet. Keys from the hub's key set are added to
	// them.
	IssuerKeys []string `toml:"issuer_keys"`

	// HubSealKey is the hub's sealing public key (seal.PublicKey text, in
	// the file or inline): events are sealed to it. Required.
	HubSealKey string `toml:"hub_seal_key"`

	// TrustSystemClock trusts the system clock as it is, synchronised or
	// not: for a device with a battery-backed clock, or a laptop. By
	// default the clock is trusted only when the kernel says it is
	// synchronised (NTP) and it is not below the time floor.
	TrustSystemClock bool `toml:"trust_system_clock"`

	// OnLogFailure is "deny" (default) or "open": what the gate does with
	// an allowed read it cannot log.
	OnLogFailure string `toml:"on_log_failure"`

	// JSONLines prints every decision as a JSON line on stdout (default
	// true).
	JSONLines *bool `toml:"json_lines"`

	// Policy is the site's policy until the hub sends a signed one.
	// Fields left out take DefaultPolicy's values.
	Policy *scanner.Policy `toml:"policy"`

	Inputs []InputConfig `toml:"input"`
	Relay  *RelayConfig  `toml:"relay"`
	Hooks  []HookConfig  `toml:"hook"`

	dir string // the config file's folder
}

// InputConfig is one input.
type InputConfig struct {
	Name      string            `toml:"name"`      // default: kind and index
	Direction scanner.Direction `toml:"direction"` // entry or exit; required
	Kind      string            `toml:"kind"`      // camera, keyboard, serial, folder or stdin
	Path      string            `toml:"path"`      // the device, file or folder
	Loop      bool              `toml:"loop"`      // folder: start over at the end
	Width     int               `toml:"width"`     // camera: frame size (default 640x480)
	Height    int               `toml:"height"`    //
	FPS       int               `toml:"fps"`       // camera: frame rate (default 30)
	Baud      int               `toml:"baud"`      // serial: baud rate (default 9600)
}

// RelayConfig is the GPIO relay that opens the gate.
type RelayConfig struct {
	Pin       string        `toml:"pin"`        // e.g. "GPIO17"; required
	ActiveLow bool          `toml:"active_low"` // default active high
	Pulse     time.Duration `toml:"pulse"`      // default 500ms
}

// HookConfig is an exec or HTTP hook.
type HookConfig struct {
	Exec    []string      `toml:"exec"`    // command and arguments; the decision JSON on stdin
	URL     string        `toml:"url"`     // or a URL to POST the decision JSON to
	Timeout time.Duration `toml:"timeout"` // default 2s
}

const defaultDataDir = "/var/lib/checkpoint"

// configError is a config problem, with the line it is on when known.
type configError struct {
	file string
	line int
	msg  string
}

func (e *configError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s: %s", e.file, e.msg)
}

// LoadConfig reads and checks a config file. Unknown keys and bad values
// are errors naming the key and its line.
func LoadConfig(name string) (*Config, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	c := &Config{dir: filepath.Dir(name)}
	md, err := toml.Decode(string(b), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &configError{file: name, line: pe.Position.Line, msg: pe.Message}
		}
		return nil, &configError{file: name, msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &configError{file: name, line: keyLine(b, k), msg: fmt.Sprintf("unknown key %q", k.String())}
	}
	// A policy in the config starts from the defaults, so leaving a
	// rule out does not deny it.
	if c.Policy != nil {
		p := scanner.DefaultPolicy(c.Site)
		if _, err := toml.Decode(string(b), &struct {
			Policy *scanner.Policy `toml:"policy"`
		}{p}); err != nil {
			return nil, &configError{file: name, msg: err.Error()}
		}
		c.Policy = p
	}
	if err := c.check(b); err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			ce.file = name
			return nil, ce
		}
		return nil, &configError{file: name, msg: err.Error()}
	}
	return c, nil
}

func (c *Config) check(src []byte) error {
	bad := func(key, format string, args ...any) error {
		return &configError{line: keyLine(src, toml.Key(strings.Split(key, "."))), msg: fmt.Sprintf("%s: ", key) + fmt.Sprintf(format, args...)}
	}
	switch {
	case c.Site == "":
		return bad("site", "required: the site name passes are issued for")
	case c.RootKey == "" && len(c.IssuerKeys) == 0:
		return bad("root_key", "required (or issuer_keys for a gate without a hub)")
	case c.HubSealKey == "":
		return bad("hub_seal_key", "required: the hub's sealing public key, which events are sealed to")
	case c.OnLogFailure != "" && c.OnLogFailure != "deny" && c.OnLogFailure != "open":
		return bad("on_log_failure", "%q: want deny or open", c.OnLogFailure)
	case len(c.Inputs) == 0:
		return bad("input", "at least one [[input]] is required")
	}
	if c.Policy == nil {
		c.Policy = scanner.DefaultPolicy(c.Site)
	}
	c.Policy.Site = c.Site
	if err := c.Policy.Check(); err != nil {
		return bad("policy", "%v", err)
	}
	for i := range c.Inputs {
		in := &c.Inputs[i]
		switch in.Kind {
		case "folder", "keyboard", "serial":
			if in.Path == "" {
				return bad("input.path", "input %d: a %s input needs a path", i+1, in.Kind)
			}
		case "camera", "stdin":
		case "":
			return bad("input.kind", "input %d: required (camera, keyboard, serial, folder or stdin)", i+1)
		default:
			return bad("input.kind", "input %d: unknown kind %q (want camera, keyboard, serial, folder or stdin)", i+1, in.Kind)
		}
		if in.Name == "" {
			in.Name = fmt.Sprintf("%s-%d", in.Kind, i+1)
		}
		if in.Width < 0 || in.Height < 0 || in.FPS < 0 || in.Baud < 0 {
			return bad("input", "input %d: negative size, rate or baud", i+1)
		}
	}
	if c.Relay != nil && c.Relay.Pin == "" {
		return bad("relay.pin", "required in [relay]")
	}
	for i, h := range c.Hooks {
		if (len(h.Exec) == 0) == (h.URL == "") {
			return bad("hook", "hook %d: give exactly one of exec or url", i+1)
		}
	}
	return nil
}

// dataDir returns the data folder, resolved, with its default applied.
func (c *Config) dataDir() string {
	if c.DataDir == "" {
		return defaultDataDir
	}
	return c.path(c.DataDir)
}

func (c *Config) controlSocket() string {
	if c.ControlSocket == "" {
		return filepath.Join(c.dataDir(), controlFile)
	}
	return c.path(c.ControlSocket)
}

// hubKey reads the hub's sealing key: a file, or the key itself.
func (c *Config) hubKey() (seal.PublicKey, error) {
	k, err := readSealKey(c.path(c.HubSealKey), c.HubSealKey)
	if err != nil {
		return k, fmt.Errorf("hub_seal_key: %w", err)
	}
	return k, nil
}

// path resolves a config path against the config file's folder.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

var tableRE = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?`)

// keyLine finds the line of key k in a TOML file: the first line that sets
// k's last part inside k's table. It returns 0 when it cannot tell.
func keyLine(src []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	table := strings.Join(k[:len(k)-1], ".")
	last := k[len(k)-1]
	keyRE := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(last) + `"?\s*=`)
	cur := ""
	s := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if m := tableRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if cur == strings.Join(k, ".") {
				return n
			}
			continue
		}
		if cur == table && keyRE.MatchString(line) {
			return n
		}
	}
	return 0
}
