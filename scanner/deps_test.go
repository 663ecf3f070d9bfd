package scanner

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The domain package does no I/O: its (non-test) files may import only the
// standard library's pure packages and the CBOR module.
func TestDomainImports(t *testing.T) {
	forbidden := []string{"os", "net", "syscall", "io/fs", "io/ioutil", "log", "time/tzdata", "unsafe", "plugin", "runtime/cgo"}
	allowedThirdParty := []string{"github.com/fxamacker/cbor/v2"}
	files, _ := filepath.Glob("*.go")
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: the domain does no I/O", name, path)
				}
			}
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") {
				ok := false
				for _, a := range allowedThirdParty {
					ok = ok || path == a
				}
				if !ok {
					t.Errorf("%s imports %s: only CBOR may come from outside the standard library", name, path)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}
