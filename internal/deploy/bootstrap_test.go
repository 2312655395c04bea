package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the repository root, where the Makefile lives.
const repoRoot = "../.."

var (
	bootstrapOnce sync.Once
	bootstrapPath string
	bootstrapErr  error
	bootstrapDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bootstrapDir != "" {
		os.RemoveAll(bootstrapDir)
	}
	os.Exit(code)
}

// buildBootstrap builds the Lambda binary once per test run with
// `make build`, the recipe `sam build` goes through too, so the tests check
// the flags the Makefile really uses.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	bootstrapOnce.Do(func() {
		bootstrapDir, bootstrapErr = os.MkdirTemp("", "flatguard-bootstrap-")
		if bootstrapErr != nil {
			return
		}
		bootstrapPath = filepath.Join(bootstrapDir, "bootstrap")
		out, err := makeCmd("-s", "build", "BIN="+bootstrapPath).CombinedOutput()
		if err != nil {
			bootstrapErr = &buildError{err: err, out: out}
		}
	})
	if bootstrapErr != nil {
		t.Fatalf("make build: %v", bootstrapErr)
	}
	return bootstrapPath
}

// makeCmd returns a command running make in the repository root. It drops
// the variables through which an outer make (make test) passes its flags and
// job server, which go test does not hand down.
func makeCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("make", append([]string{"-C", repoRoot, "--no-print-directory"}, args...)...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	return cmd
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func TestBootstrap_StaticARM64(t *testing.T) {
	path := buildBootstrap(t)

	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("elf.Open(%s): %v", path, err)
	}
	defer f.Close()

	if f.Class != elf.ELFCLASS64 {
		t.Errorf("Class = %v; want ELFCLASS64", f.Class)
	}
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("Machine = %v; want EM_AARCH64", f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		t.Errorf("Type = %v; want ET_EXEC", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v present; want a static binary", p.Type)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("ImportedLibraries: %v", err)
	}
	if len(libs) != 0 {
		t.Errorf("ImportedLibraries() = %q; want none (DT_NEEDED)", libs)
	}
	// -ldflags="-s -w" leaves no symbol table and no DWARF.
	if _, err := f.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		t.Errorf("Symbols() error = %v; want ErrNoSymbols (stripped by -s)", err)
	}
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("section %s present; want no DWARF (-w)", s.Name)
		}
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("mode = %v; want executable", info.Mode())
	}
}

func TestBootstrap_BuildSettings(t *testing.T) {
	path := buildBootstrap(t)

	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("buildinfo.ReadFile(%s): %v", path, err)
	}
	if got, want := bi.Path, "github.com/flatguard/flatguard/functions/validate"; got != want {
		t.Errorf("main package = %q; want %q", got, want)
	}

	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	tests := []struct {
		key  string
		want string
	}{
		{"CGO_ENABLED", "0"},
		{"GOOS", "linux"},
		{"GOARCH", "arm64"},
		{"-tags", "lambda.norpc"},
		{"-trimpath", "true"},
	}
	for _, tc := range tests {
		if got := settings[tc.key]; got != tc.want {
			t.Errorf("build setting %s = %q; want %q", tc.key, got, tc.want)
		}
	}
	// Go leaves -ldflags out of the build information when -trimpath is
	// set; TestBootstrap_StaticARM64 checks the effect of -s -w instead.

	// The local S3, SNS and runtime servers are for tests and the demo:
	// they must not be linked into the Lambda.
	for _, d := range bi.Deps {
		for _, banned := range []string{
			"github.com/versity/versitygw",
			"github.com/Admiral-Piett/goaws",
			"github.com/aws/aws-lambda-runtime-interface-emulator",
		} {
			if d.Path == banned {
				t.Errorf("bootstrap links %s %s; want it kept out of the Lambda", d.Path, d.Version)
			}
		}
	}
}

// TestMakefile_SAMTarget checks that the target `sam build` runs
// (BuildMethod: makefile) builds the same command into ARTIFACTS_DIR.
func TestMakefile_SAMTarget(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")

	direct, err := makeCmd("-n", "build", "BIN="+bin).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, direct)
	}
	viaSAM, err := makeCmd("-n", "build-ValidateFunction", "ARTIFACTS_DIR="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build-ValidateFunction: %v\n%s", err, viaSAM)
	}

	buildLine := strings.TrimSpace(string(direct))
	if !strings.Contains(buildLine, `-o "`+bin+`"`) {
		t.Fatalf("make -n build = %q; want it to write %q", buildLine, bin)
	}
	if !strings.Contains(string(viaSAM), buildLine) {
		t.Errorf("make -n build-ValidateFunction = %q; want it to run %q", viaSAM, buildLine)
	}

	// Without ARTIFACTS_DIR the target refuses rather than writing to /bootstrap.
	out, err := makeCmd("-s", "build-ValidateFunction", "ARTIFACTS_DIR=").CombinedOutput()
	if err == nil {
		t.Errorf("make build-ValidateFunction without ARTIFACTS_DIR succeeded; want an error\n%s", out)
	}
	if !strings.Contains(string(out), "ARTIFACTS_DIR is not set") {
		t.Errorf("make build-ValidateFunction without ARTIFACTS_DIR = %q; want it to say ARTIFACTS_DIR is not set", out)
	}
}
