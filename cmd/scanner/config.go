package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/camera"
	"github.com/checkpointgate/checkpoint/scanner/reader"
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
	// gate that has no hub yet: a table of issuer name = file (or
	// [files]), each key signing only its issuer's passes; or a list of
	// files, for a gate of one issuer, whose one key signs passes in any
	// issuer's name. A signed key set from the hub, once cached, replaces
	// them (it can retire a key).
	IssuerKeys issuerKeyFiles `toml:"issuer_keys"`

	// HubSealKey is the hub's sealing public key (seal.PublicKey text, in
	// the file or inline): events are sealed to it. Required.
	HubSealKey string `toml:"hub_seal_key"`

	// TrustSystemClock trusts the system clock as it is, synchronised or
	// not, though never below the time floor: for a device with a
	// battery-backed clock, or a laptop. By default the clock is trusted
	// only when the kernel says it is synchronised (NTP) and it is not
	// below the time floor.
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

	// The keys the files above name, read and checked with the config.
	root    ed25519.PublicKey
	issuers []issuerKey
	hubSeal seal.PublicKey
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

// issuerKey is a pass-issuer key the config trusts, for its issuer (""
// for any).
type issuerKey struct {
	issuer string
	key    ed25519.PublicKey
}

// issuerKeyFiles is issuer_keys: a list of key files (for any issuer) or a
// table of issuer = file or [files].
type issuerKeyFiles struct {
	anyIssuer []string            // files of keys that sign for any issuer
	named     map[string][]string // issuer: its key files
	notFiles  map[string]bool     // issuers given something else: told in check, on their line
}

// UnmarshalTOML implements toml.Unmarshaler.
func (k *issuerKeyFiles) UnmarshalTOML(v any) error {
	files := func(v any) ([]string, bool) {
		switch v := v.(type) {
		case string:
			return []string{v}, true
		case []any:
			var out []string
			for _, f := range v {
				s, ok := f.(string)
				if !ok {
					return nil, false
				}
				out = append(out, s)
			}
			return out, true
		}
		return nil, false
	}
	if t, ok := v.(map[string]any); ok {
		k.named = map[string][]string{}
		for name, v := range t {
			f, ok := files(v)
			if !ok {
				if k.notFiles == nil {
					k.notFiles = map[string]bool{}
				}
				k.notFiles[name] = true
			}
			k.named[name] = f
		}
		return nil
	}
	f, ok := files(v)
	if !ok {
		return errors.New("want a list of key files, or a table of issuer = key file")
	}
	k.anyIssuer = f
	return nil
}

// check refuses two keys for any issuer, and an issuer name that cannot
// be one or that holds no key file.
func (k *issuerKeyFiles) check(src []byte) error {
	// A key for any issuer can sign in another's name: with two of them,
	// each issuer's could use up the other's households' quotas.
	if n := len(k.anyIssuer); n > 1 {
		return &configError{line: keyLine(src, toml.Key{"issuer_keys"}), msg: fmt.Sprintf("issuer_keys: %d keys, each signing passes in any issuer's name: name each key's issuer ([issuer_keys] then NAME = \"FILE\")", n)}
	}
	for _, name := range slices.Sorted(maps.Keys(k.named)) {
		bad := func(format string, args ...any) error {
			return &configError{line: keyLine(src, toml.Key{"issuer_keys", name}), msg: fmt.Sprintf("issuer_keys.%s: ", toml.Key{name}) + fmt.Sprintf(format, args...)}
		}
		switch {
		case !scanner.ValidIssuer(name):
			return bad("an issuer name is 1 to %d bytes, printable", scanner.MaxIssuerLen)
		// A key of the config written below [issuer_keys] is in that
		// table: root_key there would trust the root as an issuer's key,
		// and leave the gate without a root.
		case fieldType(reflect.TypeFor[Config](), toml.Key{name}) != nil:
			return bad("%s is a key of the config, not an issuer: every key below [issuer_keys] is in that table; put %s above it", name, name)
		case k.notFiles[name]:
			return bad("want a key file, or a list of them")
		case len(k.named[name]) == 0:
			return bad("no key file")
		}
	}
	return nil
}

// count is how many key files there are.
func (k *issuerKeyFiles) count() int {
	n := len(k.anyIssuer)
	for _, f := range k.named {
		n += len(f)
	}
	return n
}

// HookConfig is an exec or HTTP hook.
type HookConfig struct {
	Exec    []string      `toml:"exec"`    // command and arguments; the decision JSON on stdin
	URL     string        `toml:"url"`     // or a URL to POST the decision JSON to
	Timeout time.Duration `toml:"timeout"` // default 2s
}

const defaultDataDir = "/var/lib/checkpoint"

// outside reports whether d is set (not zero: the default) and not within
// [lo, hi].
func outside(d, lo, hi time.Duration) bool { return d != 0 && (d < lo || d > hi) }

// Bounds on output timings: a relay pulse too short to work a strike, or
// one that holds the gate open for minutes ("500s" for "500ms"), and a
// hook call that holds up the hook's later decisions for long, are
// mistakes.
const (
	minPulse, maxPulse             = 50 * time.Millisecond, time.Minute
	minHookTimeout, maxHookTimeout = 10 * time.Millisecond, time.Minute
)

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

// decodeError is the TOML decoder's error as a configError, with its line
// and, where the decoder says which key's value it refused, the key.
func decodeError(name string, src []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := hideURLs(pe.Message)
		if ce := elementError(src, pe.LastKey, msg); ce != nil {
			ce.file = name
			return ce
		}
		// A value refused by its type (a duration, a mode) names its key;
		// a syntax error's last key may be one on an earlier line.
		if k := pe.LastKey; k != "" && keyLine(src, toml.Key(strings.Split(k, "."))) == pe.Position.Line {
			msg = k + ": " + msg
		}
		return &configError{file: name, line: pe.Position.Line, msg: msg}
	}
	// A value of the wrong TOML type: "toml: line N (last key "K"): ...".
	if m := typeErrorRE.FindStringSubmatch(err.Error()); m != nil {
		if ce := elementError(src, m[2], hideURLs(m[3])); ce != nil {
			ce.file = name
			return ce
		}
		line, _ := strconv.Atoi(m[1])
		return &configError{file: name, line: line, msg: m[2] + ": " + hideURLs(m[3])}
	}
	return &configError{file: name, msg: hideURLs(err.Error())}
}

// elementError is the error msg for a value of key (table.key) that the
// decoder refused in an array of tables, [[input]] or [[hook]], on its line
// in the element that holds it: the decoder tells the line of that key in
// the last element that has it. It is nil for any other key.
func elementError(src []byte, key, msg string) *configError {
	k := strings.Split(key, ".")
	if len(k) != 2 || (k[0] != "input" && k[0] != "hook") {
		return nil
	}
	var arrays struct {
		Input []toml.Primitive `toml:"input"`
		Hook  []toml.Primitive `toml:"hook"`
	}
	md, err := toml.Decode(string(src), &arrays)
	if err != nil {
		return nil
	}
	elems, elem := arrays.Input, func() any { return new(InputConfig) }
	if k[0] == "hook" {
		elems, elem = arrays.Hook, func() any { return new(HookConfig) }
	}
	for i, p := range elems {
		if md.PrimitiveDecode(p, elem()) != nil {
			return &configError{line: elementLine(src, k[0], i+1, k[1]), msg: key + ": " + msg}
		}
	}
	return nil
}

var typeErrorRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// quotedURL is a quoted string holding "://", as the TOML parser's errors
// quote what they read.
var quotedURL = regexp.MustCompile(`"(?:[^"\\]|\\.)*://(?:[^"\\]|\\.)*"`)

// hideURLs replaces the URLs a message quotes: a hook's URL may hold a
// password or a token, and config errors go to the log.
func hideURLs(msg string) string {
	return quotedURL.ReplaceAllString(msg, `"(a URL, not shown)"`)
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
		return nil, decodeError(name, b, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &configError{file: name, line: keyLine(b, k), msg: fmt.Sprintf("unknown key %q", k.String())}
	}
	if err := checkKeys(b); err != nil {
		err.file = name
		return nil, err
	}
	// A policy in the config starts from the defaults, so leaving a
	// rule out does not deny it.
	if c.Policy != nil {
		p := scanner.DefaultPolicy(c.Site)
		if _, err := toml.Decode(string(b), &struct {
			Policy *scanner.Policy `toml:"policy"`
		}{p}); err != nil {
			return nil, decodeError(name, b, err)
		}
		c.Policy = p
	}
	if err := c.check(b); err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			ce.file = name
			return nil, err
		}
		return nil, &configError{file: name, msg: err.Error()}
	}
	return c, nil
}

// loadConfig is LoadConfig for a command: an error without a hint of its
// own (a key file's) gets hint.
func loadConfig(name, hint string) (*Config, error) {
	c, err := LoadConfig(name)
	if he := (*cliError)(nil); err != nil && !errors.As(err, &he) {
		return nil, hinted(err, "%s", hint)
	}
	return c, err
}

// checkKeys checks what the decoded values cannot tell: that every
// duration has its unit (a bare number would be nanoseconds), and that
// every input says its direction (the zero direction is entry).
func checkKeys(src []byte) *configError {
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		return &configError{msg: err.Error()}
	}
	if err := bareDuration(raw, reflect.TypeFor[Config](), nil, "", 0, src); err != nil {
		return err
	}
	for i, in := range tables(raw["input"]) {
		if _, ok := in["direction"]; !ok {
			return &configError{line: elementLine(src, "input", i+1, ""), msg: fmt.Sprintf("input.direction: input %d: required (entry or exit)", i+1)}
		}
	}
	return nil
}

// tables returns the tables of a decoded array of tables, written as
// [[name]] sections or inline; nil for anything else.
func tables(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		var ts []map[string]any
		for _, e := range v {
			if t, ok := e.(map[string]any); ok {
				ts = append(ts, t)
			}
		}
		return ts
	}
	return nil
}

// bareDuration walks the file's values v beside the type t they decode
// into, and returns an error for the first duration written as a bare
// number. key is v's key; table and n name the array element it is in
// (the n-th, from 1), if any.
func bareDuration(v any, t reflect.Type, key toml.Key, table string, n int, src []byte) *configError {
	if t == nil {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range slices.Sorted(maps.Keys(v)) {
			sub := append(key[:len(key):len(key)], name)
			if err := bareDuration(v[name], fieldType(t, toml.Key{name}), sub, table, n, src); err != nil {
				return err
			}
		}
	case []map[string]any, []any:
		for i, elem := range tables(v) {
			if err := bareDuration(elem, t, key, key.String(), i+1, src); err != nil {
				return err
			}
		}
	case int64:
		if t != reflect.TypeFor[time.Duration]() {
			return nil
		}
		const want = "give a duration with its unit, like \"5s\" or \"48h\""
		if table == "" {
			return &configError{line: keyLine(src, key), msg: fmt.Sprintf("%s: %s", key, want)}
		}
		return &configError{line: elementLine(src, table, n, key[len(key)-1]), msg: fmt.Sprintf("%s: %s %d: %s", key, table, n, want)}
	}
	return nil
}

// fieldType returns the type of the field that key k sets in a value of
// type t, following the toml tags; nil when there is none.
func fieldType(t reflect.Type, k toml.Key) reflect.Type {
	for _, part := range k {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := func() (reflect.StructField, bool) {
			for i := range t.NumField() {
				if f := t.Field(i); strings.Split(f.Tag.Get("toml"), ",")[0] == part {
					return f, true
				}
			}
			return reflect.StructField{}, false
		}()
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

func (c *Config) check(src []byte) error {
	bad := func(key, format string, args ...any) error {
		return &configError{line: keyLine(src, toml.Key(strings.Split(key, "."))), msg: fmt.Sprintf("%s: ", key) + fmt.Sprintf(format, args...)}
	}
	// badIn is bad for a key of the i-th (from 1) [[table]] of its kind.
	badIn := func(table string, i int, key, format string, args ...any) error {
		return &configError{line: elementLine(src, table, i, key), msg: fmt.Sprintf("%s.%s: %s %d: ", table, key, table, i) + fmt.Sprintf(format, args...)}
	}
	if err := c.IssuerKeys.check(src); err != nil {
		return err
	}
	switch {
	case c.Site == "":
		return bad("site", "required: the site name passes are issued for")
	case strings.IndexFunc(c.Site, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return bad("site", "not printable: no pass can name this site")
	case c.RootKey == "" && c.IssuerKeys.count() == 0:
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
		var pe *scanner.PolicyError
		if !errors.As(err, &pe) {
			return bad("policy", "%v", err)
		}
		if pe.Key == "site" { // the policy's site is the config's
			return bad("site", "%s", pe.Problem)
		}
		// The key's line, or else its table's: a default the file left
		// out can be wrong with a rule it set (timed anti-passback
		// without its window).
		k := toml.Key(append([]string{"policy"}, strings.Split(pe.Key, ".")...))
		return &configError{line: keyLine(src, k), msg: fmt.Sprintf("%s: %s", k, pe.Problem)}
	}
	for _, d := range []struct {
		name string
		r    scanner.Rules
	}{{"entry", c.Policy.Entry}, {"exit", c.Policy.Exit}} {
		if d.r.PassbackWindow > 0 && d.r.AntiPassback != scanner.PassbackTimed {
			return &configError{line: keyLine(src, toml.Key{"policy", d.name, "passback_window"}), msg: fmt.Sprintf("policy.%s.passback_window: for anti_passback = \"timed\" only (this is %s)", d.name, d.r.AntiPassback)}
		}
	}
	// The household quota counts exits only (scanner.Decide).
	if c.Policy.Entry.QuotaCount > 0 {
		return &configError{line: keyLine(src, toml.Key{"policy", "entry", "quota_count"}), msg: "policy.entry.quota_count: the household quota counts exits only: put it in [policy.exit]"}
	}
	// A skew past the most used is a mistake in a config ("24h" for "2m").
	if c.Policy.ClockSkew > scanner.MaxClockSkew {
		return &configError{line: keyLine(src, toml.Key{"policy", "clock_skew"}), msg: fmt.Sprintf("policy.clock_skew: %v: want 0 to %v", c.Policy.ClockSkew, scanner.MaxClockSkew)}
	}
	// Nor a debounce of minutes ("500s" for "500ms"): a holder back at
	// the input within it would be turned away unlogged.
	if c.Policy.Debounce > scanner.MaxDebounce {
		return &configError{line: keyLine(src, toml.Key{"policy", "debounce"}), msg: fmt.Sprintf("policy.debounce: %v: want 0 to %v", c.Policy.Debounce, scanner.MaxDebounce)}
	}
	// Only a hub confirms trust data current; a gate without one (no
	// root_key) would find every read past max_trust_age.
	if c.RootKey == "" && c.Policy.MaxTrustAge > 0 {
		return &configError{line: keyLine(src, toml.Key{"policy", "max_trust_age"}), msg: "policy.max_trust_age: a gate without a hub (no root_key) has no trust data to age: set it to \"0s\""}
	}
	names := map[string]int{}
	devices := map[string]int{} // what an input reads from, but a folder
	for i := range c.Inputs {
		in, n := &c.Inputs[i], i+1
		switch in.Kind {
		case "folder", "keyboard", "serial":
			if in.Path == "" {
				return badIn("input", n, "path", "a %s input needs a path", in.Kind)
			}
		case "camera", "stdin":
		case "":
			return badIn("input", n, "kind", "required (camera, keyboard, serial, folder or stdin)")
		default:
			return badIn("input", n, "kind", "unknown kind %q (want camera, keyboard, serial, folder or stdin)", in.Kind)
		}
		if in.Name == "" {
			in.Name = fmt.Sprintf("%s-%d", in.Kind, n)
		}
		if first, ok := names[in.Name]; ok {
			return badIn("input", n, "name", "%q is input %d's name too: override and status name inputs by it", in.Name, first)
		}
		names[in.Name] = n
		// Two inputs on one stream or device would split its bytes
		// between them, and splice lines nobody typed.
		if dev := in.device(c); dev != "" {
			if first, ok := devices[dev]; ok {
				key := "path"
				if in.Kind == "stdin" {
					key = "kind"
				}
				return badIn("input", n, key, "input %d reads %s too: one input a device", first, dev)
			}
			devices[dev] = n
		}
		for _, f := range []struct {
			key string
			v   int
		}{{"width", in.Width}, {"height", in.Height}, {"fps", in.FPS}, {"baud", in.Baud}} {
			if f.v < 0 {
				return badIn("input", n, f.key, "negative")
			}
		}
		if err := in.checkSource(func(key, format string, args ...any) error {
			return badIn("input", n, key, format, args...)
		}); err != nil {
			return err
		}
	}
	if r := c.Relay; r != nil {
		switch {
		case r.Pin == "":
			return bad("relay.pin", "required in [relay]")
		case outside(r.Pulse, minPulse, maxPulse):
			return bad("relay.pulse", "%v: want %v to %v", r.Pulse, minPulse, maxPulse)
		}
	}
	for i, h := range c.Hooks {
		n := i + 1
		switch {
		case (len(h.Exec) == 0) == (h.URL == ""):
			return badIn("hook", n, "exec", "give exactly one of exec or url")
		case len(h.Exec) > 0 && h.Exec[0] == "":
			return badIn("hook", n, "exec", "no command")
		case outside(h.Timeout, minHookTimeout, maxHookTimeout):
			return badIn("hook", n, "timeout", "%v: want %v to %v", h.Timeout, minHookTimeout, maxHookTimeout)
		}
		if h.URL != "" {
			// Not quoted: the URL may hold a password or a token.
			u, err := url.Parse(h.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return badIn("hook", n, "url", "want an http:// or https:// URL with a host")
			}
		}
	}
	// The key files last: what the file itself says wrong is told first.
	return c.readKeys(src)
}

// checkSource refuses, with bad, what the input's source would refuse at
// start (so that it is told with its key and line), and a source's key
// given to an input of another kind.
func (in *InputConfig) checkSource(bad func(key, format string, args ...any) error) error {
	isCamera, isSerial := in.Kind == "camera", in.Kind == "serial"
	switch {
	case !isCamera && in.Width != 0:
		return bad("width", "a camera's key, not a %s input's", in.Kind)
	case !isCamera && in.Height != 0:
		return bad("height", "a camera's key, not a %s input's", in.Kind)
	case !isCamera && in.FPS != 0:
		return bad("fps", "a camera's key, not a %s input's", in.Kind)
	case !isSerial && in.Baud != 0:
		return bad("baud", "a serial input's key, not a %s input's", in.Kind)
	case in.Kind != "folder" && in.Loop:
		return bad("loop", "a folder input's key, not a %s input's", in.Kind)
	case in.Kind == "stdin" && in.Path != "":
		return bad("path", "a stdin input reads standard input, not a path")
	case isSerial && !reader.SupportedBaud(in.Baud):
		return bad("baud", "%d: not a serial rate (1200 to 921600: 9600, 19200, 38400, 57600, 115200, …)", in.Baud)
	case in.Width != 0 && in.Height == 0:
		return bad("height", "give width and height together")
	case in.Height != 0 && in.Width == 0:
		return bad("width", "give width and height together")
	case in.Width > camera.MaxSide:
		return bad("width", "%d: want at most %d", in.Width, camera.MaxSide)
	case in.Height > camera.MaxSide:
		return bad("height", "%d: want at most %d", in.Height, camera.MaxSide)
	case in.FPS > camera.MaxFPS:
		return bad("fps", "%d: want at most %d", in.FPS, camera.MaxFPS)
	}
	return nil
}

// device returns what the input reads from, for every kind but a folder
// (which two inputs may share): "standard input" for stdin, else the
// device's path, with its links followed when it exists (a camera by its
// /dev/v4l/by-id name is its /dev/videoN).
func (in *InputConfig) device(c *Config) string {
	p := c.devicePath(in.Path)
	switch in.Kind {
	case "stdin":
		return "standard input"
	case "folder":
		return ""
	case "camera":
		if p == "" {
			p = camera.DefaultDevice
		}
	}
	return resolved(p)
}

// resolved returns p, absolute, with its links followed as the kernel
// follows them, as far as it exists: ".." after a link goes up from where
// the link led, and a link to a name not there yet (a device not plugged
// in) leads to that name. Past 40 links (a loop) a link is taken as a
// plain name.
func resolved(p string) string {
	sep := string(filepath.Separator)
	if !filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			p = wd + sep + p
		}
	}
	parts, cur, hops := strings.Split(p, sep), sep, 0
	for i := 0; i < len(parts); i++ {
		switch part := parts[i]; part {
		case "", ".":
		case "..":
			cur = filepath.Dir(cur)
		default:
			next := filepath.Join(cur, part)
			if fi, err := os.Lstat(next); err == nil && fi.Mode()&os.ModeSymlink != 0 && hops < 40 {
				if target, err := os.Readlink(next); err == nil {
					hops++
					if filepath.IsAbs(target) {
						cur = sep
					}
					parts, i = append(strings.Split(target, sep), parts[i+1:]...), -1
					continue
				}
			}
			cur = next
		}
	}
	return cur
}

// dataDir returns the data folder, resolved, with its default applied.
func (c *Config) dataDir() string {
	if c.DataDir == "" {
		return defaultDataDir
	}
	return c.path(c.DataDir)
}

// gateID names the gate on this machine: its data folder, absolute, with
// links followed (as far as it exists), which one gate at a time holds.
func (c *Config) gateID() string { return resolved(c.dataDir()) }

func (c *Config) controlSocket() string {
	if c.ControlSocket == "" {
		return filepath.Join(c.dataDir(), controlFile)
	}
	return c.path(c.ControlSocket)
}

// readKeys reads the key files the config names (the hub's sealing key
// may be given inline), so that a missing or bad one is an error naming
// its key and line when the config is loaded.
func (c *Config) readKeys(src []byte) error {
	// The error names the key and its line; the reader's hint, if it
	// gave one, stays with it.
	bad := func(key toml.Key, err error, hint string) error {
		ce := &configError{line: keyLine(src, key), msg: fmt.Sprintf("%s: %v", key, err)}
		if he := (*cliError)(nil); errors.As(err, &he) {
			hint = he.hint
		}
		return hinted(ce, "%s", hint)
	}
	if c.RootKey != "" {
		k, err := readPublicKey(c.path(c.RootKey))
		if err != nil {
			return bad(toml.Key{"root_key"}, err, "give the .pub file that scanner keygen wrote for the root")
		}
		c.root = k
	}
	const issuersHint = "give the .pub files that scanner keygen wrote for the issuers"
	for _, name := range c.IssuerKeys.anyIssuer {
		k, err := readPublicKey(c.path(name))
		if err != nil {
			return bad(toml.Key{"issuer_keys"}, err, issuersHint)
		}
		c.issuers = append(c.issuers, issuerKey{key: k})
	}
	for _, issuer := range slices.Sorted(maps.Keys(c.IssuerKeys.named)) {
		for _, name := range c.IssuerKeys.named[issuer] {
			k, err := readPublicKey(c.path(name))
			if err != nil {
				return bad(toml.Key{"issuer_keys", issuer}, err, issuersHint)
			}
			// One key an issuer: a key under two names would sign for
			// the first only (keys are found by their ID).
			for _, o := range c.issuers {
				if o.key.Equal(k) {
					return bad(toml.Key{"issuer_keys", issuer}, fmt.Errorf("the key of issuer_keys.%s too", toml.Key{o.issuer}), "one key an issuer: give each issuer its own key")
				}
			}
			c.issuers = append(c.issuers, issuerKey{issuer: issuer, key: k})
		}
	}
	k, err := readSealKey(c.path(c.HubSealKey), c.HubSealKey)
	if err != nil {
		return bad(toml.Key{"hub_seal_key"}, err, "give the file holding the hub's cpseal-pub-… key, or the key itself")
	}
	c.hubSeal = k
	return nil
}

// devicePath is the path of a device input relative to the config file's
// folder, not cleaned: cleaning by text would take a ".." after a link
// elsewhere than the kernel does.
func (c *Config) devicePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return c.dir + string(filepath.Separator) + p
}

// path resolves a config path against the config file's folder.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// command returns a hook's command line with its command, when named by a
// relative path ("./open.sh", "bin/open"), made absolute against the
// config file's folder, as every other path in the config; a bare name is
// left to be looked up in PATH.
func (c *Config) command(argv []string) []string {
	if len(argv) == 0 || filepath.IsAbs(argv[0]) || !strings.ContainsRune(argv[0], filepath.Separator) {
		return argv
	}
	out := slices.Clone(argv)
	out[0] = c.devicePath(argv[0])
	if abs, err := filepath.Abs(out[0]); err == nil {
		out[0] = abs
	}
	return out
}

// elementLine returns the line of key in the n-th (from 1) element of the
// array of tables name: the key's own line, else the element's [[name]]
// header, else (an inline array) the line that sets name; 0 when it
// cannot tell. An empty key asks for the element itself.
func elementLine(src []byte, name string, n int, key string) int {
	line := tableLine(src, name, n)
	if line == 0 {
		return keyLine(src, toml.Key{name})
	}
	if l := keyLineAfter(src, line, key); key != "" && l > 0 {
		return l
	}
	return line
}

// tableLine returns the line of the n-th (from 1) [[name]] header, or 0.
func tableLine(src []byte, name string, n int) int {
	for i, line := range tomlLines(src) {
		if m := tableRE.FindStringSubmatch(line); m != nil && m[1] == name {
			if n--; n == 0 {
				return i + 1
			}
		}
	}
	return 0
}

// keyLineAfter returns the line that sets key in the table whose header is
// on line from, or 0.
func keyLineAfter(src []byte, from int, key string) int {
	if from == 0 {
		return 0
	}
	for i, line := range tomlLines(src) {
		k, _, isKey := strings.Cut(line, "=")
		switch n := i + 1; {
		case n <= from:
		case tableRE.MatchString(line):
			return 0
		case isKey && dottedName(k) == key:
			return n
		}
	}
	return 0
}

var tableRE = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?`)

// tomlLines returns the file's lines with those that continue a value
// begun on an earlier line (the elements of a multi-line array or inline
// table, the lines of a multi-line string) and comment lines blanked, so
// that an element such as "timeout=3" is not taken for a key. Line i+1 of
// the file is element i.
func tomlLines(src []byte) []string {
	var lines []string
	var v valueScan
	s := bufio.NewScanner(bytes.NewReader(src))
	for s.Scan() {
		line := s.Text()
		switch {
		case v.open():
			v.scan(line)
			line = ""
		case strings.HasPrefix(strings.TrimSpace(line), "#"):
			line = ""
		case !tableRE.MatchString(line):
			if _, value, ok := strings.Cut(line, "="); ok {
				v.scan(value)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// valueScan follows a TOML value across lines: the brackets and braces it
// has open, and the multi-line string it is in, if any.
type valueScan struct {
	depth int
	multi string // the delimiter, """ or ''', while in a multi-line string
}

func (v *valueScan) open() bool { return v.depth > 0 || v.multi != "" }

// scan reads one line (or the value part of one) of a value.
func (v *valueScan) scan(s string) {
	for i := 0; i < len(s); i++ {
		if v.multi != "" {
			if strings.HasPrefix(s[i:], v.multi) {
				i += len(v.multi) - 1
				v.multi = ""
			} else if s[i] == '\\' && v.multi == `"""` {
				i++
			}
			continue
		}
		switch c := s[i]; {
		case strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], `'''`):
			v.multi = s[i : i+3]
			i += 2
		case c == '"' || c == '\'':
			// A one-line string: skip to its end (basic strings escape).
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		case c == '#':
			return
		case c == '[' || c == '{':
			v.depth++
		case c == ']' || c == '}':
			v.depth = max(0, v.depth-1)
		}
	}
}

// keyLine finds the line of key k in a TOML file: the first line that sets
// it, under its table or as a dotted key; else the line of the nearest
// table or key above it that the file has (a [table] header, or the line
// of an inline table holding it). It returns 0 when it cannot tell.
func keyLine(src []byte, k toml.Key) int {
	want := strings.Join(k, ".")
	cur, best, bestLen := "", 0, 0
	for i, line := range tomlLines(src) {
		n := i + 1
		var name string
		if m := tableRE.FindStringSubmatch(line); m != nil {
			cur = dottedName(m[1])
			name = cur
		} else if key, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			name = dottedName(key)
			if cur != "" {
				name = cur + "." + name
			}
		} else {
			continue
		}
		switch {
		case name == want:
			return n
		case strings.HasPrefix(want, name+".") && len(name) > bestLen:
			best, bestLen = n, len(name)
		}
	}
	return best
}

// dottedName is a TOML key or table name as dotted parts, without the
// quotes and spaces around them.
func dottedName(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
