package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// Exit codes.
const (
	exitOK     = 0
	exitDenied = 1
	exitError  = 2
)

// Main is the scanner program. Its fields are what the program touches of
// the world, so tests can supply their own.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	Rand   io.Reader
}

// NewMain returns a Main wired to the process's standard streams and clock.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Rand: rand.Reader}
}

// cliError is an error with a hint on how to fix it.
type cliError struct {
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func hinted(err error, hint string, args ...any) error {
	return &cliError{err: err, hint: fmt.Sprintf(hint, args...)}
}

// usageError marks bad arguments.
var errUsage = errors.New("usage")

const usage = `usage: scanner COMMAND [flags]

commands:
  keygen  -o PREFIX                  write an Ed25519 key pair: PREFIX.key and PREFIX.pub
  issue   -key PREFIX.key [flags]    print a signed pass (and -png FILE renders its QR)
  verify  -pub PREFIX.pub (FILE | -text PASS)
                                     print the decision as JSON; exit 0 allowed, 1 denied
  decode  FILE...                    print what each QR image holds
  run     -config FILE               run the gate
  override -config FILE (-allow | -deny) -reason TEXT [-input NAME] [-read SEQ]
                                     a gatekeeper's manual decision at the running gate
  emergency -config FILE on|off      allow every read at the gate's exits (kept across restarts)
  status  -config FILE [-json]       trust versions and ages, pending events, files, checks
                                     (and the running gate's counters)

Run "scanner COMMAND -h" for a command's flags.
`

// Run runs the program with args (without the program name) and returns
// its exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return exitError
	}
	var (
		code int
		err  error
	)
	switch args[0] {
	case "keygen":
		err = m.keygen(args[1:])
	case "issue":
		err = m.issue(args[1:])
	case "verify":
		code, err = m.verify(args[1:])
	case "decode":
		code, err = m.decode(args[1:])
	case "run":
		err = m.run(ctx, args[1:])
	case "status":
		err = m.status(args[1:])
	case "override":
		code, err = m.override(args[1:])
	case "emergency":
		err = m.emergency(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return exitOK
	default:
		err = hinted(fmt.Errorf("unknown command %q", args[0]), `run "scanner help" for the list of commands`)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(m.Stderr, "scanner: error: %v\n", err)
		}
		var ce *cliError
		if errors.As(err, &ce) && ce.hint != "" {
			fmt.Fprintf(m.Stderr, "scanner: hint: %s\n", ce.hint)
		}
		return exitError
	}
	return code
}

func (m *Main) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("scanner "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return fs
}

// parse parses flags; bad flags have already been reported by the flag
// package, so they come back as errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func (m *Main) keygen(args []string) error {
	fs := m.flags("keygen")
	out := fs.String("o", "", "write the key pair to `PREFIX`.key and PREFIX.pub")
	force := fs.Bool("f", false, "overwrite existing files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return hinted(errors.New("keygen needs -o PREFIX and nothing else"), "for example: scanner keygen -o issuer")
	}
	pub, priv, err := ed25519.GenerateKey(m.Rand)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(*out+".key", scanner.MarshalPrivateKey(priv), 0o600, *force); err != nil {
		return err
	}
	if err := writeNew(*out+".pub", scanner.MarshalPublicKey(pub), 0o644, *force); err != nil {
		// A .pub in the way is not this key's: the new .key is not left
		// beside it, which would not verify the passes it signs. Without
		// -f the .key is the file just made.
		if !*force {
			os.Remove(*out + ".key")
		}
		return err
	}
	fmt.Fprintf(m.Stderr, "scanner: wrote %s.key (keep it secret) and %s.pub; key ID %x\n", *out, *out, scanner.KeyID(pub))
	return nil
}

// writeNew writes a file, refusing to replace one unless force is set. The
// data is synced before the file is closed.
func writeNew(name string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(name, flags, perm)
	if errors.Is(err, os.ErrExist) {
		return hinted(err, "choose another -o PREFIX, or pass -f to overwrite")
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// defaultSite is the site name a pass is issued for and verified at when
// none is given.
const defaultSite = "main"

func (m *Main) issue(args []string) error {
	fs := m.flags("issue")
	keyFile := fs.String("key", "", "the issuer's private key `FILE` (from keygen)")
	issuer := fs.String("issuer", "checkpoint", "the issuer `NAME`")
	status := fs.String("status", "green", "status at issue: green, yellow or red")
	valid := fs.Duration("valid", 24*time.Hour, "how long the pass is valid")
	holder := fs.String("holder", "", "holder display `TEXT`: initials and unit, never a full name (at most 32 characters)")
	household := fs.String("household", "", "opaque household `ID` (default: random)")
	class := fs.String("class", "resident", "pass class: resident, visitor or staff")
	index := fs.Uint("index", 0, "the pass's `INDEX` in the issuer's status list")
	quarantine := fs.String("quarantine-until", "", "RFC 3339 `TIME` before which the holder may not leave")
	atFlag := fs.String("at", "", "issue as of RFC 3339 `TIME` (default: now)")
	pngFile := fs.String("png", "", "also render the pass as a QR code in PNG `FILE`")
	var sites stringList
	fs.Var(&sites, "site", "a site `NAME` the pass is valid for (repeat for more; default "+defaultSite+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || fs.NArg() != 0 {
		return hinted(errors.New("issue needs -key FILE"), "make a key with: scanner keygen -o issuer")
	}
	key, err := readPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	p := &scanner.Pass{Issuer: *issuer, Holder: *holder, Sites: sites, Index: uint32(*index)}
	if len(p.Sites) == 0 {
		p.Sites = []string{defaultSite}
	}
	if p.Status, err = scanner.ParseColour(*status); err != nil || p.Status == scanner.Revoked {
		return hinted(fmt.Errorf("bad -status %q", *status), "use green, yellow or red")
	}
	if p.Class, err = scanner.ParseClass(*class); err != nil {
		return hinted(err, "use resident, visitor or staff")
	}
	if uint64(*index) > 1<<24-1 {
		return hinted(errors.New("-index out of range"), "indices go from 0 to 16777215")
	}
	now := m.Now()
	if *atFlag != "" {
		if now, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return hinted(fmt.Errorf("bad -at: %w", err), "give a time like 2026-03-01T08:00:00Z")
		}
	}
	if *valid <= 0 {
		return hinted(errors.New("-valid must be positive"), "for example -valid 24h")
	}
	p.IssuedAt, p.NotBefore, p.Expiry = now, now, now.Add(*valid)
	if *quarantine != "" {
		if p.QuarantineUntil, err = time.Parse(time.RFC3339, *quarantine); err != nil {
			return hinted(fmt.Errorf("bad -quarantine-until: %w", err), "give a time like 2026-03-15T00:00:00Z")
		}
	}
	p.ID = make([]byte, 16)
	if _, err := io.ReadFull(m.Rand, p.ID); err != nil {
		return fmt.Errorf("random pass ID: %w", err)
	}
	if *household != "" {
		p.Household = []byte(*household)
	} else {
		p.Household = make([]byte, 16)
		if _, err := io.ReadFull(m.Rand, p.Household); err != nil {
			return fmt.Errorf("random household ID: %w", err)
		}
	}
	text, err := scanner.IssuePass(p, key)
	if err != nil {
		return hinted(err, "check -holder (at most %d printable characters), -household (at most %d bytes) and -site (at most %d)",
			scanner.MaxHolderLen, scanner.MaxHousehold, scanner.MaxSites)
	}
	if *pngFile != "" {
		if err := notAKeyFile(*pngFile, *keyFile); err != nil {
			return err
		}
		img, err := qr.Encode(text, qr.Options{})
		if err != nil {
			return fmt.Errorf("render QR: %w", err)
		}
		// A pass is a bearer credential and carries its holder's text:
		// its image is for whoever issued it, until they hand it over.
		f, err := os.OpenFile(*pngFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		// A file already there keeps its mode through the open.
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return err
		}
		if err := qr.WritePNG(f, img); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", *pngFile, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintln(m.Stdout, text)
	return nil
}

// notAKeyFile refuses a -png FILE that is the -key file, or any other key
// file scanner keygen wrote: issue writes over an image already there (an
// earlier pass's), but a slip of the shell must not turn the issuer's key
// into a picture of a pass.
func notAKeyFile(png, key string) error {
	pfi, err := os.Stat(png)
	if err != nil {
		return nil // nothing there (or the open will say why)
	}
	if kfi, err := os.Stat(key); err == nil && os.SameFile(pfi, kfi) {
		return hinted(fmt.Errorf("-png %s is the -key file", png), "give the image another name")
	}
	if b, err := readSmall(png); err == nil && bytes.HasPrefix(b, []byte("checkpoint-ed25519-")) {
		return hinted(fmt.Errorf("-png %s holds a key, not an image", png), "give the image another name")
	}
	return nil
}

func readPrivateKey(name string) (ed25519.PrivateKey, error) {
	b, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	k, err := scanner.ParsePrivateKey(b)
	if err != nil {
		return nil, hinted(fmt.Errorf("%s: %w", name, err), "pass the .key file that scanner keygen wrote")
	}
	return k, nil
}

func readPublicKey(name string) (ed25519.PublicKey, error) {
	b, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	k, err := scanner.ParsePublicKey(b)
	if err != nil {
		return nil, hinted(fmt.Errorf("%s: %w", name, err), "pass the .pub file that scanner keygen wrote")
	}
	return k, nil
}

// readSmall reads a key file, refusing anything large.
func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// verdict is what verify prints.
type verdict struct {
	Allow   bool           `json:"allow"`
	Reason  scanner.Reason `json:"reason"`
	Colour  string         `json:"colour"` // the screen: green allowed, yellow allowed and flagged, red denied
	Text    string         `json:"text"`
	Detail  string         `json:"detail,omitempty"`
	Flagged bool           `json:"flagged"`
	Site    string         `json:"site"`
	Dir     string         `json:"direction"`

	// Present once the pass's signature verified.
	Status  string     `json:"status,omitempty"` // the pass's health colour
	Issuer  string     `json:"issuer,omitempty"`
	Class   string     `json:"class,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
}

func (m *Main) verify(args []string) (int, error) {
	fs := m.flags("verify")
	pubFile := fs.String("pub", "", "the issuer's public key `FILE` (from keygen)")
	text := fs.String("text", "", "the pass `TEXT` itself, instead of an image file")
	atFlag := fs.String("at", "", "decide as of RFC 3339 `TIME` (default: now)")
	site := fs.String("site", defaultSite, "the `SITE` of the gate")
	dirFlag := fs.String("direction", "entry", "entry or exit")
	if err := parse(fs, args); err != nil {
		return 0, err
	}
	if *pubFile == "" {
		return 0, hinted(errors.New("verify needs -pub FILE"), "pass the issuer's .pub file from scanner keygen")
	}
	if (*text == "") == (fs.NArg() == 0) || fs.NArg() > 1 {
		return 0, hinted(errors.New("verify needs one image FILE or -text PASS"), "for example: scanner verify -pub issuer.pub pass.png")
	}
	key, err := readPublicKey(*pubFile)
	if err != nil {
		return 0, err
	}
	dir, err := scanner.ParseDirection(*dirFlag)
	if err != nil {
		return 0, hinted(err, "use -direction entry or -direction exit")
	}
	now := m.Now()
	if *atFlag != "" {
		if now, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return 0, hinted(fmt.Errorf("bad -at: %w", err), "give a time like 2026-03-01T08:00:00Z")
		}
	}
	passText := *text
	if fs.NArg() == 1 {
		name := fs.Arg(0)
		passText, err = qr.DecodeFile(name)
		if errors.Is(err, qr.ErrNotFound) {
			// No code is a denial, like any other unreadable pass.
			passText = ""
		} else if err != nil {
			return 0, hinted(fmt.Errorf("%s: %w", name, err), "give a PNG or JPEG image of the pass, or the pass text with -text")
		}
	}
	// The one key given is trusted as a pass issuer for every issuer
	// name and site.
	trust := scanner.NewTrust(nil)
	trust.Keys = &scanner.KeySet{Keys: []scanner.Key{{ID: scanner.KeyID(key), Public: key, Role: scanner.RolePassIssuer}}}
	gate := scanner.Gate{Site: *site, Direction: dir}
	d := scanner.Decide(passText, trust, scanner.DefaultPolicy(*site), nil, gate, scanner.Moment{Wall: now, Trusted: true})
	v := verdict{Allow: d.Allow, Reason: d.Reason, Colour: d.Screen, Text: d.Text, Detail: d.Detail, Flagged: d.Flagged,
		Site: *site, Dir: dir.String()}
	if d.Pass != nil {
		v.Status, v.Issuer, v.Class = d.Status.String(), d.Pass.Issuer, d.Pass.Class.String()
		exp := d.Pass.Expiry
		v.Expires = &exp
	}
	enc := json.NewEncoder(m.Stdout)
	if err := enc.Encode(v); err != nil {
		return 0, err
	}
	if !d.Allow {
		return exitDenied, nil
	}
	return exitOK, nil
}

func (m *Main) decode(args []string) (int, error) {
	fs := m.flags("decode")
	if err := parse(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, hinted(errors.New("decode needs one or more image files"), "for example: scanner decode pass.png")
	}
	code := exitOK
	for _, name := range fs.Args() {
		text, err := qr.DecodeFile(name)
		switch {
		case errors.Is(err, qr.ErrNotFound):
			fmt.Fprintf(m.Stdout, "%s\t\n", name)
		case err != nil:
			fmt.Fprintf(m.Stderr, "scanner: error: %s: %v\n", name, err)
			code = exitError
		default:
			fmt.Fprintf(m.Stdout, "%s\t%s\n", name, strconv.Quote(text))
		}
	}
	return code, nil
}
