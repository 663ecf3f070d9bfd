package privacytest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// An ID is found in JSON that carries it as bytes (Base64) or as hex,
// and in a log line that prints it with %x or %X; a holder's text in JSON
// and as it is. Nothing is found in text without them, nor for an empty
// secret.
func TestHolds(t *testing.T) {
	secret := []byte{0x9a, 0x01, 0xfe, 'h', 'o', 'u', 's', 'e', 0x00, 0x7f}
	holder := []byte("L.M. 3-402")
	for _, c := range []struct {
		v      any
		secret []byte
	}{{secret, secret}, {fmt.Sprintf("%x", secret), secret}, {string(holder), holder}} {
		b, err := json.Marshal(map[string]any{"id": c.v})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := Holds(string(b), c.secret); !ok {
			t.Errorf("not found in %s", b)
		}
	}
	for _, verb := range []string{"%x", "%X", "%s"} {
		line := "time=now msg=read id=" + fmt.Sprintf(verb, secret)
		if _, ok := Holds(line, secret); !ok {
			t.Errorf("not found in %q", line)
		}
	}
	if form, ok := Holds(`{"seq":7,"allow":true,"reason":"ok"}`, secret); ok {
		t.Errorf("found %q in a line without it", form)
	}
	if _, ok := Holds("anything", nil); ok {
		t.Error("an empty secret found")
	}
}
