package scanner

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// BenchmarkDecide is the whole read of a pass: Base45, CBOR, COSE, the
// signature, the claims and the policy. Compare with BenchmarkEd25519Verify,
// a bare ed25519.Verify of the same signed message (see BENCHMARKS.md).
func BenchmarkDecide(b *testing.B) {
	tr := testTrust(b)
	text := mustIssue(b, vecPass(nil), vecIssuer)
	now := at(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if d := Decide(text, tr, nil, nil, gateIn, now); !d.Allow {
			b.Fatal(d.Reason)
		}
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	e, err := parsePassEnvelope(mustIssue(b, vecPass(nil), vecIssuer))
	if err != nil {
		b.Fatal(err)
	}
	msg, _ := toBeSigned(e.protected, e.payload)
	key := pub(vecIssuer)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(key, msg, e.signature) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkParse is the parsing alone, without the signature.
func BenchmarkParse(b *testing.B) {
	text := mustIssue(b, vecPass(nil), vecIssuer)
	b.ReportAllocs()
	for b.Loop() {
		e, err := parsePassEnvelope(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parsePassClaims(e.payload, e.header.KID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStatusLookup(b *testing.B) {
	l, _ := NewStatusList("compound-7", 1, vecT0, 1_000_000)
	for i := uint32(0); i < 1_000_000; i += 97 {
		l.Set(i, Red)
	}
	var n uint32
	for b.Loop() {
		c, _ := l.Get(n % 1_000_000)
		n += 7919
		_ = c
	}
}

// BenchmarkDecideVsVerify runs a whole Decide and a bare ed25519.Verify of
// the same signed message alternately in one loop, so that both see the
// same machine, and reports each one's time and their ratio; and, in the
// same loop, a Decide whose signature cache already holds the pass (a pass
// shown again).
func BenchmarkDecideVsVerify(b *testing.B) {
	tr := testTrust(b)
	text := mustIssue(b, vecPass(nil), vecIssuer)
	e, err := parsePassEnvelope(text)
	if err != nil {
		b.Fatal(err)
	}
	msg, _ := toBeSigned(e.protected, e.payload)
	key := pub(vecIssuer)
	now := at(time.Hour)
	cached := tr.WithSigCache(NewSigCache(4))
	var decide, again, verify time.Duration
	for b.Loop() {
		t := time.Now()
		if d := Decide(text, tr, nil, nil, gateIn, now); !d.Allow {
			b.Fatal(d.Reason)
		}
		decide += time.Since(t)
		t = time.Now()
		if d := Decide(text, cached, nil, nil, gateIn, now); !d.Allow {
			b.Fatal(d.Reason)
		}
		again += time.Since(t)
		t = time.Now()
		if !ed25519.Verify(key, msg, e.signature) {
			b.Fatal("does not verify")
		}
		verify += time.Since(t)
	}
	b.ReportMetric(float64(decide.Nanoseconds())/float64(b.N), "decide-ns")
	b.ReportMetric(float64(again.Nanoseconds())/float64(b.N), "decide-cached-ns")
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns")
	b.ReportMetric(float64(decide)/float64(verify), "ratio")
}
