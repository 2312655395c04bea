// Flatguard checks the image URLs of marketplace flat files on this machine,
// with the same pipeline as the validate Lambda, and runs the whole Lambda
// path locally as a demo.
//
// Usage:
//
//	flatguard check [flags] FILE|DIR...
//	flatguard demo
//	flatguard invoke EVENT.json
//
// Exit status: 0 when every file passes, 1 when any fails, 2 when any file
// could not be checked or the command line is wrong.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit codes of CONTRACT.md.
const (
	exitPass  = 0
	exitFail  = 1
	exitError = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "demo", "invoke":
		return runDev(ctx, args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitPass
	}
	fmt.Fprintf(stderr, "flatguard: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

const usage = `flatguard checks the image URLs in marketplace flat files before the
marketplace fetches them: temporary (pre-signed) links, share pages, 404s,
login walls and images that are not images.

Usage:
  flatguard check [flags] FILE|DIR...   check local files (a folder: every flat file in it)
  flatguard demo [--html DIR]           run the whole Lambda path on this machine (HTML reports into DIR, default demo-out)
  flatguard invoke EVENT.json           run the built Lambda under the runtime emulator on an S3 event

Run 'flatguard check -h' for the flags.

Exit status: 0 every file passes, 1 any file fails, 2 a file could not be
checked or the command line is wrong.
`
