package devstack

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// stack is the one Stack the package's tests share.
var stack *Stack

// startDir is the working directory before Start.
var startDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var err error
	startDir, err = os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stack, err = Start(ctx, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := stack.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "close stack: %v\nlogs:\n%s", err, stack.Logs())
		return 1
	}
	return code
}

// testContext returns a context that ends with the test, bounded so that
// a hung server fails the test instead of the whole run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
