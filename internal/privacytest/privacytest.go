package privacytest

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Forms returns secret as it is and in each encoding Holds looks for.
func Forms(secret []byte) []string {
	h := hex.EncodeToString(secret)
	return []string{
		string(secret),
		base64.StdEncoding.EncodeToString(secret), base64.RawStdEncoding.EncodeToString(secret),
		base64.URLEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret),
		h, strings.ToUpper(h),
	}
}

// Holds reports whether text holds secret in one of its Forms, and which.
// An empty secret is never held.
func Holds(text string, secret []byte) (form string, ok bool) {
	if len(secret) == 0 {
		return "", false
	}
	for _, f := range Forms(secret) {
		if strings.Contains(text, f) {
			return f, true
		}
	}
	return "", false
}
