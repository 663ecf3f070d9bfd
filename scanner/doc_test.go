package scanner

import (
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The worked example in docs/pass-format.md must be what the code issues.
func TestDocWorkedExample(t *testing.T) {
	b, err := os.ReadFile("../docs/pass-format.md")
	if err != nil {
		t.Fatal(err)
	}
	block := func(lang string) string {
		m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("no ```%s block in docs/pass-format.md", lang)
		}
		return m[1]
	}
	text := strings.TrimSpace(block("text"))
	want := mustIssue(t, vecPass(nil), vecIssuer)
	if text != want {
		t.Errorf("the doc's pass text is not what IssuePass makes today:\n doc %s\ncode %s", text, want)
	}
	docHex := strings.Join(strings.Fields(block("hex")), "")
	raw, err := base45Decode(nil, strings.TrimPrefix(want, PassPrefix))
	if err != nil {
		t.Fatal(err)
	}
	if docHex != hex.EncodeToString(raw) {
		t.Errorf("the doc's hex is not the pass's COSE_Sign1")
	}
	if d := Decide(text, testTrust(t), nil, nil, gateIn, at(0)); !d.Allow {
		t.Errorf("the doc's example is denied: %s", d.Reason)
	}
}
