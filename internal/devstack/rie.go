package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RIEBinaryEnv names an optional environment variable holding the path of
// an aws-lambda-rie binary. When it is unset, RIEBinary asks the go command
// for the emulator named by the tool line in go.mod.
const RIEBinaryEnv = "FLATGUARD_RIE"

// invokePath is where the emulator accepts invocations.
const invokePath = "/2015-03-31/functions/function/invocations"

// rieBinary caches RIEBinary's answer for the process.
var rieBinary struct {
	mu   sync.Mutex
	path string
}

// RIEBinary returns the path of the Lambda runtime interface emulator: the
// value of RIEBinaryEnv if set, otherwise the binary that
// `go tool -n aws-lambda-rie` reports (building it into the go build cache
// the first time). The go command runs in the current directory, which must
// be inside the flatguard module.
func RIEBinary(ctx context.Context) (string, error) {
	if p := os.Getenv(RIEBinaryEnv); p != "" {
		return p, nil
	}

	rieBinary.mu.Lock()
	defer rieBinary.mu.Unlock()
	if rieBinary.path != "" {
		return rieBinary.path, nil
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate aws-lambda-rie (set %s to skip the go command): %v: %s", RIEBinaryEnv, err, stderr.String())
	}
	rieBinary.path = strings.TrimSpace(string(out))
	return rieBinary.path, nil
}

// BuildBootstrap builds the Go main package pkg (a path or import path the
// go command understands from the current directory) as a Lambda bootstrap
// for this machine: GOOS=linux, this process's GOARCH, CGO_ENABLED=0 and
// -tags lambda.norpc, as the provided.al2023 runtime wants it. It writes
// dir/bootstrap and returns its path.
func BuildBootstrap(ctx context.Context, pkg, dir string) (string, error) {
	out, err := filepath.Abs(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("build bootstrap %s: %v", pkg, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build bootstrap %s: %v: %s", pkg, err, b)
	}
	return out, nil
}

// RIE runs a Lambda bootstrap binary under the AWS Lambda runtime interface
// emulator, with both the invoke address and the runtime API address on
// 127.0.0.1 ports the kernel picked. The emulator and the bootstrap run in
// a process group of their own, which Close ends. One invoke runs at a time.
type RIE struct {
	// InvokeURL is where Invoke posts payloads.
	InvokeURL string
	// RuntimeAPI is the host:port the bootstrap sees in AWS_LAMBDA_RUNTIME_API.
	RuntimeAPI string

	cmd     *exec.Cmd
	logs    *logBuffer
	done    chan struct{}
	waitErr error

	invokeMu  sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

// baseLambdaEnv is the environment the emulator and the function start
// with, instead of the caller's: a real Lambda sees none of the developer's
// variables, and the emulator passes its whole environment on.
func baseLambdaEnv() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"AWS_LAMBDA_FUNCTION_NAME=flatguard-devstack",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
	}
}

// StartRIE starts the emulator for bootstrap (an executable path) and waits
// until it accepts invocations. env is added to a minimal Lambda-like
// environment (PATH, LANG, TZ, function name and memory size), later
// entries winning; pass Stack.Env() there to reach the stack. The function
// process itself starts on the first Invoke, as a cold start does.
func StartRIE(ctx context.Context, bootstrap string, env []string) (*RIE, error) {
	bin, err := RIEBinary(ctx)
	if err != nil {
		return nil, err
	}
	bootstrap, err = filepath.Abs(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("start rie: %v", err)
	}
	invokePort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}

	r := &RIE{
		InvokeURL:  "http://127.0.0.1:" + strconv.Itoa(invokePort) + invokePath,
		RuntimeAPI: "127.0.0.1:" + strconv.Itoa(apiPort),
		logs:       &logBuffer{},
		done:       make(chan struct{}),
	}
	r.cmd = exec.Command(bin,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(invokePort),
		"--runtime-api-address", r.RuntimeAPI,
		bootstrap)
	r.cmd.Dir = filepath.Dir(bootstrap)
	r.cmd.Env = append(baseLambdaEnv(), env...)
	r.cmd.Stdout = r.logs
	r.cmd.Stderr = r.logs
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start rie %s: %v", bin, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.done)
	}()

	if err := r.waitReady(ctx, "127.0.0.1:"+strconv.Itoa(invokePort)); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("start rie: %w; output:\n%s", err, r.Logs())
	}
	return r, nil
}

// waitReady dials addr until the emulator accepts, it exits, or ctx ends.
func (r *RIE) waitReady(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-r.done:
			return fmt.Errorf("emulator exited: %v", r.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("wait for emulator on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Invoke sends payload to the function and returns what it answered. A
// handler error is an answer too: the body is then the runtime's error JSON
// ({"errorMessage":…,"errorType":…}) and err is nil, as with Lambda's
// Invoke API. err is set when the emulator itself fails or answers with a
// status other than 200. Calls are serialised.
func (r *RIE) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.invokeMu.Lock()
	defer r.invokeMu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.InvokeURL, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %v", r.InvokeURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", r.InvokeURL, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read answer: %w", r.InvokeURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke %s: status %s: %s", r.InvokeURL, resp.Status, body)
	}
	return body, nil
}

// Logs returns the emulator's and the function's combined output so far,
// for test failure messages.
func (r *RIE) Logs() string {
	return r.logs.String()
}

// Close ends the emulator and the function: SIGTERM to their process group,
// then SIGKILL if they are still there after three seconds. It is safe to
// call more than once.
func (r *RIE) Close() error {
	r.closeOnce.Do(func() {
		pgid := r.cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGTERM)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			r.closeErr = fmt.Errorf("stop rie: %v", err)
		}
		select {
		case <-r.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-r.done
		}
		// The emulator's exit status after SIGTERM carries no information.
		// Kill the group once more in case the bootstrap outlived it.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return r.closeErr
}
