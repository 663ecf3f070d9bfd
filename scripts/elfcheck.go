//go:build ignore

// Elfcheck checks that Go binaries are static Linux executables for one
// architecture, as scripts/test.sh builds them for the gate devices:
//
//	go run scripts/elfcheck.go -arch arm64 FILE...
//	go run scripts/elfcheck.go -arch arm -goarm 7 FILE...
//
// It reads the ELF header (class, machine, type), the program headers (no
// interpreter, so no dynamic loader is needed on the device) and the Go build
// information (GOARCH, GOARM, CGO_ENABLED), prints one line per file, and
// exits 1 if any file does not match.
package main

import (
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	arch := flag.String("arch", "", "expected GOARCH: arm64 or arm")
	goarm := flag.String("goarm", "", "expected GOARM (arm only), e.g. 7")
	flag.Parse()
	want, ok := map[string]struct {
		class   elf.Class
		machine elf.Machine
	}{
		"arm64": {elf.ELFCLASS64, elf.EM_AARCH64},
		"arm":   {elf.ELFCLASS32, elf.EM_ARM},
	}[*arch]
	if !ok || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/elfcheck.go -arch arm64|arm [-goarm N] FILE...")
		os.Exit(2)
	}
	failed := false
	for _, name := range flag.Args() {
		desc, err := check(name, want.class, want.machine, *arch, *goarm)
		if err != nil {
			fmt.Printf("%s: FAIL: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Printf("%s: %s\n", name, desc)
	}
	if failed {
		os.Exit(1)
	}
}

func check(name string, class elf.Class, machine elf.Machine, arch, goarm string) (string, error) {
	f, err := elf.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if f.Class != class || f.Machine != machine {
		return "", fmt.Errorf("%v %v, want %v %v", f.Class, f.Machine, class, machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("ELF type %v, want an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("has a program interpreter: not statically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return "", fmt.Errorf("needs shared libraries %v", libs)
	}

	bi, err := buildinfo.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("no Go build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	wantSettings := map[string]string{"GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0"}
	if goarm != "" {
		wantSettings["GOARM"] = goarm
	}
	var got []string
	for _, k := range []string{"GOOS", "GOARCH", "GOARM", "GOARM64", "CGO_ENABLED"} {
		v, ok := settings[k]
		if w, checked := wantSettings[k]; checked && v != w {
			return "", fmt.Errorf("built with %s=%q, want %q", k, v, w)
		}
		if ok {
			got = append(got, k+"="+v)
		}
	}
	return fmt.Sprintf("ELF %s %s %s, static, %s, %s",
		strings.TrimPrefix(f.Class.String(), "ELFCLASS")+"-bit",
		strings.TrimPrefix(f.Machine.String(), "EM_"),
		strings.TrimPrefix(f.Type.String(), "ET_"),
		bi.GoVersion, strings.Join(got, " ")), nil
}
