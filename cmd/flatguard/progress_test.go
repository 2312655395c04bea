package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what a person's terminal is.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	unlock := 0
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock pty: %v", errno)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

func TestProgressLine_Terminal(t *testing.T) {
	master, slave := openPTY(t)
	progress := progressLine(slave, "feed.txt")
	if progress == nil {
		t.Fatal("progressLine(terminal) = nil; want a progress bar")
	}
	progress(1, 4)
	progress(4, 4)
	// The terminal hands the writes over in pieces: read until the last one.
	var got string
	buf := make([]byte, 4096)
	for !strings.Contains(got, "4/4 URLs\r\033[K") {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("read terminal after %q: %v", got, err)
		}
		got += string(buf[:n])
	}
	for _, want := range []string{"feed.txt [#######.......................] 1/4 URLs", "feed.txt [##############################] 4/4 URLs", "\r\033[K"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal shows %q; want it to hold %q", got, want)
		}
	}
}

func TestProgressLine_Piped(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if progressLine(w, "feed.txt") != nil {
		t.Error("progressLine(pipe) != nil; want no progress bar when piped")
	}
	if progressLine(&bytes.Buffer{}, "feed.txt") != nil {
		t.Error("progressLine(buffer) != nil; want no progress bar")
	}
}

func TestCheck_FormatHTML(t *testing.T) {
	out := filepath.Join(t.TempDir(), "health.report.html")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "--offline", "--format", "html", "--output", out,
		"../../testdata/corpus/amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt"}, &stdout, &stderr)
	if code != exitFail {
		t.Fatalf("exit = %d; want %d (stderr %q)", code, exitFail, stderr.String())
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!doctype html>", `data-status="fail"`, "presigned_url", "EX-VITC-120", "X-Amz-Signature=REDACTED"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("AKIAIOSFODNN7EXAMPLE")) {
		t.Error("HTML report leaks the access key ID")
	}
	code = run(context.Background(), []string{"check", "--offline", "--format", "html", "../../testdata/corpus"}, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "--format html with several files needs --output DIR") {
		t.Errorf("html for a folder without --output: exit %d, stderr %q; want 2 and a hint", code, stderr.String())
	}
}
