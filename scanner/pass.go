package scanner

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PassPrefix starts the text of every pass. The digit is the format
// version: a future format gets a new prefix, so an old gate refuses a new
// pass plainly instead of misreading it.
const PassPrefix = "CP1:"

// Limits on a pass. A pass longer than MaxPassText characters is refused
// before anything is decoded; the claim limits are checked on issue and on
// parse.
const (
	MaxPassText   = 1024
	MaxIssuerLen  = 64
	MaxHolderLen  = 32 // characters
	MaxSites      = 8
	MaxSiteLen    = 64
	MinPassIDLen  = 8
	MaxPassIDLen  = 32
	MaxHousehold  = 32
	maxStatusSize = 1 << 24 // pass indices per issuer
)

// Claim keys. Standard CWT claims (RFC 8392 §4) and one private claim map.
const (
	claimIssuer    = 1
	claimExpiry    = 4
	claimNotBefore = 5
	claimIssuedAt  = 6
	claimID        = 7
	claimPass      = -65537 // private use (RFC 8392 §9.1: below -65536)
)

// cwtClaims is the CWT payload of a pass. Unknown claims are refused.
type cwtClaims struct {
	Issuer    string      `cbor:"1,keyasint"`
	Expiry    int64       `cbor:"4,keyasint"`
	NotBefore int64       `cbor:"5,keyasint"`
	IssuedAt  int64       `cbor:"6,keyasint"`
	ID        []byte      `cbor:"7,keyasint"`
	Pass      *passClaims `cbor:"-65537,keyasint"`
}

// passClaims is the private claim map. Keys are documented in
// docs/pass-format.md; never renumber them.
type passClaims struct {
	Status          Colour   `cbor:"1,keyasint"`
	Index           uint32   `cbor:"2,keyasint"`
	Household       []byte   `cbor:"3,keyasint"`
	Holder          string   `cbor:"4,keyasint"`
	Sites           []string `cbor:"5,keyasint"`
	QuarantineUntil int64    `cbor:"6,keyasint,omitempty"`
	Class           Class    `cbor:"7,keyasint"`
}

// Pass is a pass's content after its signature has been verified, or before
// it is issued.
type Pass struct {
	Issuer    string
	ID        []byte // random, MinPassIDLen to MaxPassIDLen bytes
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time

	Status          Colour // at issue; the status list may say otherwise since
	Index           uint32 // the pass's index in its issuer's status list
	Household       []byte // opaque household ID
	Holder          string // short display text: initials and unit, never a name
	Sites           []string
	QuarantineUntil time.Time // zero: not in quarantine
	Class           Class

	KeyID []byte // the kid that signed it; set by parsing and by IssuePass
}

// ValidFor reports whether the pass names site.
func (p *Pass) ValidFor(site string) bool {
	for _, s := range p.Sites {
		if s == site {
			return true
		}
	}
	return false
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// check validates the claims against the format's limits.
func (c *cwtClaims) check() error {
	p := c.Pass
	switch {
	case p == nil:
		return formatErr("pass claims missing")
	case !ValidIssuer(c.Issuer):
		return formatErr("issuer empty, too long or not printable")
	case len(c.ID) < MinPassIDLen || len(c.ID) > MaxPassIDLen:
		return formatErr("pass ID of %d bytes", len(c.ID))
	case c.IssuedAt <= 0 || c.NotBefore <= 0 || c.Expiry <= 0:
		return formatErr("issued-at, not-before and expiry are required")
	case c.Expiry <= c.NotBefore:
		return formatErr("expiry not after not-before")
	case p.Status > Red:
		return formatErr("status %d", p.Status)
	case p.Class > Staff:
		return formatErr("class %d", p.Class)
	case p.Index >= maxStatusSize:
		return formatErr("status index out of range")
	case len(p.Household) == 0 || len(p.Household) > MaxHousehold:
		return formatErr("household ID of %d bytes", len(p.Household))
	case utf8.RuneCountInString(p.Holder) > MaxHolderLen || !printable(p.Holder):
		return formatErr("holder text too long or not printable")
	case len(p.Sites) == 0 || len(p.Sites) > MaxSites:
		return formatErr("%d sites", len(p.Sites))
	case p.QuarantineUntil < 0:
		return formatErr("negative quarantine-until")
	}
	for _, s := range p.Sites {
		if s == "" || len(s) > MaxSiteLen || !printable(s) {
			return formatErr("site name empty, too long or not printable")
		}
	}
	return nil
}

// ValidIssuer reports whether name can be a pass's issuer: 1 to
// MaxIssuerLen bytes, printable.
func ValidIssuer(name string) bool {
	return name != "" && len(name) <= MaxIssuerLen && printable(name)
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// IssuePass signs p with key and returns the pass text. The pass's KeyID is
// set from the key. IssuePass refuses a pass the parser would refuse.
func IssuePass(p *Pass, key ed25519.PrivateKey) (string, error) {
	c := cwtClaims{
		Issuer:    p.Issuer,
		Expiry:    unixOrZero(p.Expiry),
		NotBefore: unixOrZero(p.NotBefore),
		IssuedAt:  unixOrZero(p.IssuedAt),
		ID:        p.ID,
		Pass: &passClaims{
			Status:          p.Status,
			Index:           p.Index,
			Household:       p.Household,
			Holder:          p.Holder,
			Sites:           p.Sites,
			QuarantineUntil: unixOrZero(p.QuarantineUntil),
			Class:           p.Class,
		},
	}
	if err := c.check(); err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	payload, err := encMode.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	b, err := signEnvelope(key, ctPass, payload)
	if err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	text := string(base45Encode([]byte(PassPrefix), b))
	if len(text) > MaxPassText {
		return "", fmt.Errorf("issue pass: %d characters, more than %d", len(text), MaxPassText)
	}
	p.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	return text, nil
}

// parsePassEnvelope turns pass text into its COSE envelope, checking the
// length, the prefix, the Base45 and the COSE structure.
func parsePassEnvelope(text string) (*envelope, error) {
	if len(text) > MaxPassText {
		return nil, formatErr("pass of %d characters, more than %d", len(text), MaxPassText)
	}
	rest, ok := strings.CutPrefix(text, PassPrefix)
	if !ok {
		if strings.HasPrefix(text, "CP") && len(text) > 3 && text[3] == ':' {
			return nil, formatErr("pass format version %q not supported", text[:4])
		}
		return nil, formatErr("not a checkpoint pass (no %q prefix)", PassPrefix)
	}
	n := base45DecodedLen(len(rest))
	if n < 0 {
		return nil, formatErr("bad Base45: truncated")
	}
	raw, err := base45Decode(make([]byte, 0, n), rest)
	if err != nil {
		return nil, formatErr("bad Base45: %v", err)
	}
	return parseEnvelope(raw, ctPass)
}

// parsePassClaims decodes and checks the CWT payload.
func parsePassClaims(payload []byte, kid []byte) (*Pass, error) {
	var c cwtClaims
	if err := decMode.Unmarshal(payload, &c); err != nil {
		return nil, formatErr("claims: %v", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if canon, err := encMode.Marshal(&c); err != nil || !bytes.Equal(canon, payload) {
		return nil, formatErr("claims not in deterministic encoding")
	}
	return &Pass{
		Issuer:          c.Issuer,
		ID:              c.ID,
		IssuedAt:        timeOrZero(c.IssuedAt),
		NotBefore:       timeOrZero(c.NotBefore),
		Expiry:          timeOrZero(c.Expiry),
		Status:          c.Pass.Status,
		Index:           c.Pass.Index,
		Household:       c.Pass.Household,
		Holder:          c.Pass.Holder,
		Sites:           c.Pass.Sites,
		QuarantineUntil: timeOrZero(c.Pass.QuarantineUntil),
		Class:           c.Pass.Class,
		KeyID:           kid,
	}, nil
}
