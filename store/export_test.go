package store

// NoSyncForTest turns fsync off (or back on) for l, for tests and
// benchmarks that need many events and measure something other than
// durability (file size, privacy, a full file system). The store itself
// never sets NoSync.
func NoSyncForTest(l *Log, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.db.NoSync = on
}
