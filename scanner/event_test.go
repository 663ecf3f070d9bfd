package scanner

import (
	"reflect"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	in := Event{
		Seq: 42, BootID: [16]byte{1, 2, 3}, Mono: 3 * time.Second, Wall: 1700000000123,
		WallTrusted: true, Site: "north", Direction: Exit, Input: "cam0",
		Allow: false, Reason: ReasonQuota, Status: Yellow, Flagged: true, Detail: "x",
		Issuer: "iss", PassID: []byte{9, 9}, Household: []byte{7}, Holder: "A.B. 3-12",
		Class: Visitor, Override: "",
	}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out Event
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
	if err := out.UnmarshalBinary(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if err := out.UnmarshalBinary(b[:len(b)-1]); err == nil {
		t.Fatal("truncated event accepted")
	}
}
