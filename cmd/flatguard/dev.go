package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// devProgram runs `flatguard demo` and `flatguard invoke`. It is a program
// of its own, as git's subcommands are, because the local S3 gateway and
// SNS server it links would slow every `flatguard check` down: they add
// 40 MB to the binary and generate keys at start-up.
const devProgram = "flatguard-dev"

// runDev hands a subcommand to flatguard-dev, found beside this executable
// or on PATH, and returns its exit status.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	path, err := findDev()
	if err != nil {
		fmt.Fprintf(stderr, "flatguard %s: %v\n", args[0], err)
		return exitError
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, stdout, stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(stderr, "flatguard %s: %v\n", args[0], err)
		return exitError
	}
	return exitPass
}

func findDev() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), devProgram)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(devProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not beside flatguard nor on PATH: run `make demo`, or build both with `go build -o DIR ./cmd/flatguard ./cmd/flatguard-dev`", devProgram)
}
