// Package syncbuf is a bytes.Buffer that goroutines may write while a test
// reads it: a child process's stderr copied in, a logger written by
// workers. It is for tests.
package syncbuf
