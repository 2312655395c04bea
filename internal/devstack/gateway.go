package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
)

// gatewayEnv names the environment variable that turns a process linking
// this package into the S3 gateway child. Its value is a JSON gatewaySpec.
const gatewayEnv = "FLATGUARD_DEVSTACK_S3_GATEWAY"

// gatewaySpec is what the parent tells the gateway child.
type gatewaySpec struct {
	Addr      string `json:"addr"`
	Root      string `json:"root"`
	Versions  string `json:"versions"`
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
	Region    string `json:"region"`
}

// NOTE: this init function is how the gateway child starts: the parent runs
// its own executable again with gatewayEnv set, and the child serves S3 here
// before any main or TestMain runs, then exits. See the package comment for
// why the gateway cannot live in the caller's process.
func init() {
	spec, ok := os.LookupEnv(gatewayEnv)
	if !ok {
		return
	}
	if err := runGateway(spec); err != nil {
		fmt.Fprintf(os.Stderr, "devstack s3 gateway: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runGateway serves S3 as described by the JSON spec until standard input
// reaches its end (the parent closed it, or died).
func runGateway(spec string) error {
	var gs gatewaySpec
	if err := json.Unmarshal([]byte(spec), &gs); err != nil {
		return fmt.Errorf("parse %s: %v", gatewayEnv, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()

	// posix.New changes the working directory to Root; that is why this
	// runs in its own process.
	be, err := posix.New(gs.Root, meta.XattrMeta{}, posix.PosixOpts{VersioningDir: gs.Versions})
	if err != nil {
		return fmt.Errorf("posix backend %s: %v", gs.Root, err)
	}
	defer be.Shutdown()

	return embedgw.RunVersityGW(ctx, be, &embedgw.Config{
		RootUserAccess:    gs.AccessKey,
		RootUserSecret:    gs.SecretKey,
		Region:            gs.Region,
		Ports:             []string{gs.Addr},
		MaxConnections:    256,
		MaxRequests:       128,
		MultipartMaxParts: 10000,
		Quiet:             true,
	})
}

// gateway is the parent's handle on a running gateway child.
type gateway struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// done is closed when the child has exited; err is then its exit error.
	done chan struct{}
	err  error
}

// startGateway starts the gateway child on a free loopback port and waits
// until it answers S3 requests. It tries a few ports, since another process
// may take the chosen port between its probe and the child's bind.
func startGateway(ctx context.Context, s *Stack, root, versions string) (*gateway, error) {
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.S3Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)

		gw, err := launchGateway(s, gatewaySpec{
			Addr:      "127.0.0.1:" + strconv.Itoa(port),
			Root:      root,
			Versions:  versions,
			AccessKey: s.AccessKeyID,
			SecretKey: s.SecretAccessKey,
			Region:    s.Region,
		})
		if err != nil {
			return nil, err
		}

		err = gw.waitReady(ctx, s.S3Client())
		if err == nil {
			return gw, nil
		}
		gw.stop()
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start s3 gateway: %w; output:\n%s", lastErr, s.logs.String())
}

// launchGateway starts the child process.
func launchGateway(s *Stack, spec gatewaySpec) (*gateway, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %v", err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode gateway spec: %v", err)
	}

	cmd := exec.Command(exe, "devstack-s3-gateway")
	cmd.Env = append(os.Environ(), gatewayEnv+"="+string(b))
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("gateway stdin: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", exe, err)
	}

	gw := &gateway{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		gw.err = cmd.Wait()
		close(gw.done)
	}()
	return gw, nil
}

// waitReady polls the gateway with ListBuckets until it answers, the child
// exits, or ctx ends.
func (g *gateway) waitReady(ctx context.Context, client *s3.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, stop := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListBuckets(attempt, &s3.ListBucketsInput{})
		stop()
		if err == nil {
			return nil
		}

		select {
		case <-g.done:
			return fmt.Errorf("gateway exited: %v", g.err)
		case <-ctx.Done():
			return fmt.Errorf("wait for gateway: %w (last answer: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// stop asks the child to end by closing its standard input and kills it if
// it has not ended within a few seconds.
func (g *gateway) stop() error {
	_ = g.stdin.Close()
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}

	if g.err != nil {
		return fmt.Errorf("stop s3 gateway: %v", g.err)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
