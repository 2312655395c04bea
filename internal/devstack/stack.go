package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// DefaultRegion is the region a Stack reports when Options.Region is empty.
const DefaultRegion = "us-east-1"

// PathStyleEnv is the variable, set to "true" by Stack.Env, that tells the
// Lambda handler's main to build its S3 client with UsePathStyle. The SDK
// has no environment switch for path-style addressing of its own, and the
// local gateway answers only path-style requests (bucket.127.0.0.1 does not
// resolve).
const PathStyleEnv = "FLATGUARD_S3_PATH_STYLE"

// Credentials the gateway accepts. They are not secret: the stack listens on
// loopback only.
const (
	accessKeyID     = "devstackaccess"
	secretAccessKey = "devstacksecret"
)

// ErrRunning is returned by Start while another Stack of the same process
// is still open: goaws keeps its state in package globals.
var ErrRunning = errors.New("devstack: a stack is already running in this process")

// running guards the one-Stack-per-process rule.
var running atomic.Bool

// Options configures Start.
type Options struct {
	// Dir is a directory the stack owns: S3 buckets under Dir/s3, object
	// versions under Dir/versions. It is created if missing and kept by
	// Close. An empty Dir makes a temporary directory that Close removes.
	Dir string
	// Region is the region the services report. Empty means DefaultRegion.
	Region string
}

// Stack is a local S3 (versitygw, posix backend, object versioning
// available) and SNS (goaws router) on 127.0.0.1, with an HTTP subscriber
// that records every notification it receives. A Stack must be closed.
type Stack struct {
	// S3Endpoint is the gateway's base URL, "http://127.0.0.1:PORT".
	S3Endpoint string
	// SNSEndpoint is the SNS endpoint's base URL, "http://127.0.0.1:PORT".
	SNSEndpoint string
	// Region is the region both services report.
	Region string
	// AccessKeyID and SecretAccessKey are the static credentials the
	// gateway accepts. goaws accepts any.
	AccessKeyID, SecretAccessKey string

	logs    *logBuffer
	tempDir string
	gw      *gateway
	sns     *snsServer
	sub     *subscriber

	closeOnce sync.Once
	closeErr  error
}

// Start starts the S3 gateway and the SNS endpoint and returns when both
// answer. Only one Stack may be open in a process at a time (ErrRunning).
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if !running.CompareAndSwap(false, true) {
		return nil, ErrRunning
	}
	s := &Stack{
		Region:          opts.Region,
		AccessKeyID:     accessKeyID,
		SecretAccessKey: secretAccessKey,
		logs:            &logBuffer{},
	}
	if s.Region == "" {
		s.Region = DefaultRegion
	}

	if err := s.start(ctx, opts.Dir); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// start does the work of Start; on error the caller closes s.
func (s *Stack) start(ctx context.Context, dir string) error {
	dir, err := s.ownDir(dir)
	if err != nil {
		return err
	}
	root := filepath.Join(dir, "s3")
	versions := filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("start devstack: %v", err)
		}
	}

	s.sub, err = startSubscriber()
	if err != nil {
		return err
	}
	s.sns, err = startSNS(s.Region, s.logs)
	if err != nil {
		return err
	}
	s.SNSEndpoint = s.sns.url

	s.gw, err = startGateway(ctx, s, root, versions)
	return err
}

// ownDir returns the absolute directory the stack keeps its data in,
// creating a temporary one when dir is empty.
func (s *Stack) ownDir(dir string) (string, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "devstack-")
		if err != nil {
			return "", fmt.Errorf("start devstack: %v", err)
		}
		s.tempDir = tmp
		return tmp, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("start devstack: %v", err)
	}
	return abs, nil
}

// Close stops the gateway child, the SNS endpoint and the subscriber, and
// removes the temporary directory if Start made one. It is safe to call
// more than once; later calls return the first call's result.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.gw != nil {
			errs = append(errs, s.gw.stop())
		}
		if s.sns != nil {
			errs = append(errs, s.sns.close())
		}
		if s.sub != nil {
			errs = append(errs, s.sub.close())
		}
		if s.tempDir != "" {
			errs = append(errs, os.RemoveAll(s.tempDir))
		}
		s.closeErr = errors.Join(errs...)
		running.Store(false)
	})
	return s.closeErr
}

// Logs returns what the gateway child and goaws printed (warnings and
// errors only), for test failure messages.
func (s *Stack) Logs() string {
	return s.logs.String()
}

// AWSConfig returns an aws.Config with the stack's static credentials and
// region. It reads no environment variable, shared config file or instance
// metadata, so nothing it builds reaches past the machine.
func (s *Stack) AWSConfig() aws.Config {
	return aws.Config{
		Region:      s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
	}
}

// S3Client returns an S3 client for the gateway, path-style addressing on.
func (s *Stack) S3Client() *s3.Client {
	return s3.NewFromConfig(s.AWSConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3Endpoint)
		o.UsePathStyle = true
	})
}

// SNSClient returns an SNS client for the goaws endpoint.
func (s *Stack) SNSClient() *sns.Client {
	return sns.NewFromConfig(s.AWSConfig(), func(o *sns.Options) {
		o.BaseEndpoint = aws.String(s.SNSEndpoint)
	})
}

// Env returns the environment, as "KEY=value" strings, that a child process
// (the Lambda bootstrap under the emulator) needs to reach the stack with
// config.LoadDefaultConfig: the service endpoints (AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL_SNS), static credentials, the region, and
// PathStyleEnv=true, which the handler's main must turn into UsePathStyle.
// It also points the shared config and credentials files at the null device
// and turns instance metadata off, so a developer's ~/.aws settings cannot
// send the child elsewhere.
func (s *Stack) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + s.S3Endpoint,
		"AWS_ENDPOINT_URL_SNS=" + s.SNSEndpoint,
		"AWS_ACCESS_KEY_ID=" + s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretAccessKey,
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		PathStyleEnv + "=true",
	}
}

// CreateBucket makes a bucket and enables versioning on it.
func (s *Stack) CreateBucket(ctx context.Context, name string) error {
	client := s.S3Client()
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("enable versioning on bucket %s: %w", name, err)
	}
	return nil
}
