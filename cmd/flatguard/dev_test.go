package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Without flatguard-dev beside it or on PATH, `flatguard demo` says how to
// get it and exits 2.
func TestRun_DemoWithoutDevProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo"}, &stdout, &stderr)
	if code != exitError {
		t.Errorf("flatguard demo exit = %d; want %d", code, exitError)
	}
	if want := "flatguard demo: flatguard-dev is not beside flatguard nor on PATH: run `make demo`"; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr = %q; want it to start %q", stderr.String(), want)
	}
}
