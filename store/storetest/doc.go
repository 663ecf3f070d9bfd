// Package storetest is the contract test suite for an event log: any
// implementation of [Log] runs [RunLogContract] and must pass it. The store
// package runs it against its bbolt Log.
//
// # What the contract says
//
//   - Append assigns contiguous, increasing sequences (from 1 or more),
//     sets ev.Seq, and the event is durable when Append returns: a reopened
//     log has it.
//   - Pending returns unacknowledged events in sequence order, sealed so
//     that the hub's key opens each to the appended event.
//   - Ack deletes (or stops returning) events through a sequence; acking
//     less than before does nothing; acking past the end moves the next
//     sequence past it. A sequence is never used twice, across reopens.
//   - LastSeen and HouseholdExits reflect allowed events only, within the
//     state horizon, measured from the time floor.
//   - The time floor follows event times and RaiseTimeFloor, never goes
//     down, and survives a reopen.
//   - Every method returns an error wrapping store.ErrClosed after Close.
//
// # Using it
//
//	func TestLogContract(t *testing.T) {
//		storetest.RunLogContract(t, func(t *testing.T, dir string, cfg storetest.Config) storetest.Log {
//			l, err := mylog.Open(dir, cfg.Hub, cfg.StateHorizon)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return l
//		})
//	}
package storetest
