// Package devstack runs the real local AWS parts that the end-to-end tests,
// the `flatguard demo` command and `make invoke` talk to: an S3 gateway
// (versitygw with its posix backend, object versioning on), an SNS endpoint
// (the goaws router) with an HTTP subscriber that records every notification,
// and a harness that runs a Lambda bootstrap under the AWS Lambda runtime
// interface emulator. Nothing is mocked: every part speaks the real wire
// protocol, and every listener is on 127.0.0.1 with a port the kernel picked.
//
// # Processes
//
// The S3 gateway runs in a child process, not in the caller's process: the
// posix backend changes the process working directory to its root and then
// opens every bucket and object by a path relative to it, so running it
// in-process would break every relative path of the caller (test packages
// read testdata/ that way). The child is the caller's own executable started
// again with an environment variable that this package's init function
// recognises; it serves S3 until its standard input closes, so it ends with
// its parent even when the parent is killed. Callers need no hook of their
// own: linking this package is enough.
//
// The SNS endpoint runs in the caller's process. goaws keeps its topics and
// settings in package globals, so only one Stack may run in a process at a
// time; Start reports ErrRunning otherwise.
//
// # Known differences from AWS
//
// goaws ignores subscription filter policies for HTTP subscribers and
// cannot deliver e-mail, and the MessageId that Publish returns differs from
// the one the subscriber receives. Each CreateTopic takes about a second,
// because goaws waits that long before it sends the subscription
// confirmation.
package devstack
