package scanner

import (
	"testing"
	"time"
)

// The household quota counts exits only: a quota a signed policy sets in
// its entry rules (a config refuses one) does nothing, and entries are
// never denied for the household's exits.
func TestQuotaNeverDeniesAnEntry(t *testing.T) {
	tr := testTrust(t)
	good := mustIssue(t, vecPass(nil), vecIssuer)
	p := DefaultPolicy("north-gate")
	p.Entry.QuotaCount, p.Entry.QuotaWindow = 1, 48*time.Hour
	p.Exit.QuotaCount, p.Exit.QuotaWindow = 1, 48*time.Hour
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	local := &fakeLocal{exits: 3}
	if d := Decide(good, tr, p, local, Gate{Site: "north-gate", Direction: Entry}, at(time.Hour)); !d.Allow || d.Reason != ReasonOK {
		t.Errorf("entry of a household over its exit quota: %v %s", d.Allow, d.Reason)
	}
	if d := Decide(good, tr, p, local, Gate{Site: "north-gate", Direction: Exit}, at(time.Hour)); d.Allow || d.Reason != ReasonQuota {
		t.Errorf("exit of a household over its exit quota: %v %s", d.Allow, d.Reason)
	}
}
