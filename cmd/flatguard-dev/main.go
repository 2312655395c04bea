// Flatguard-dev runs the Lambda path on this machine: `flatguard demo` and
// `flatguard invoke` hand over to it. It links the local S3 gateway, SNS
// server and runtime emulator harness, which the flatguard CLI leaves out
// so that `flatguard check` starts in milliseconds.
//
// Usage:
//
//	flatguard-dev demo [--html DIR]    (HTML reports into DIR, default demo-out)
//	flatguard-dev invoke EVENT.json
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/flatguard/flatguard/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatguard: %v\n", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "demo":
		return demo.Run(ctx, os.Stdout, "demo-out")
	case len(args) == 3 && args[0] == "demo" && args[1] == "--html":
		return demo.Run(ctx, os.Stdout, args[2])
	case len(args) == 2 && args[0] == "invoke":
		return demo.Invoke(ctx, args[1], os.Stdout)
	}
	return fmt.Errorf("usage: flatguard-dev demo [--html DIR] | flatguard-dev invoke EVENT.json")
}
