package probe

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/flatguard/flatguard/internal/report"
)

func gifImage(t *testing.T, w, h, frames int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if frames == 1 {
		m := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		if err := gif.Encode(&buf, m, nil); err != nil {
			t.Fatalf("encode gif: %v", err)
		}
		return buf.Bytes()
	}
	all := &gif.GIF{LoopCount: 0}
	for i := 0; i < frames; i++ {
		all.Image = append(all.Image, image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9))
		all.Delay = append(all.Delay, 10)
	}
	if err := gif.EncodeAll(&buf, all); err != nil {
		t.Fatalf("encode animated gif: %v", err)
	}
	return buf.Bytes()
}

func tiffImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatalf("encode tiff: %v", err)
	}
	return buf.Bytes()
}

func bmpImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	m.Set(0, 0, color.White)
	if err := bmp.Encode(&buf, m); err != nil {
		t.Fatalf("encode bmp: %v", err)
	}
	return buf.Bytes()
}

// webpImage builds the header of an extended (VP8X) WebP of w x h, which is
// all DecodeConfig reads.
func webpImage(w, h int) []byte {
	chunk := make([]byte, 10)
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(chunk[4:7], w-1)
	put24(chunk[7:10], h-1)
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(chunk)))
	b.WriteString("WEBPVP8X")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(chunk)))
	b.Write(chunk)
	return b.Bytes()
}

// isoImage builds an ftyp box with the given brands, then padding.
func isoImage(major string, compatible ...string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(16+4*len(compatible)))
	b.WriteString("ftyp" + major + "\x00\x00\x00\x00")
	for _, c := range compatible {
		b.WriteString(c)
	}
	b.Write(make([]byte, 64))
	return b.Bytes()
}

const svgDoc = `<?xml version="1.0" encoding="UTF-8"?>
<!-- logo -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800"></svg>`

const loginPage = `<!DOCTYPE html>
<html><head><title>Sign in</title></head><body><svg width="10" height="10"></svg><form>...</form></body></html>`

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want imageInfo
	}{
		{"JPEG", testImage(t, "jpeg", 640, 480), imageInfo{format: "jpeg", width: 640, height: 480}},
		{"PNG", testImage(t, "png", 30, 2000), imageInfo{format: "png", width: 30, height: 2000}},
		{"GIF", gifImage(t, 50, 60, 1), imageInfo{format: "gif", width: 50, height: 60}},
		{"AnimatedGIF", gifImage(t, 50, 60, 3), imageInfo{format: "gif", width: 50, height: 60, animated: true}},
		{"TIFF", tiffImage(t, 1000, 700), imageInfo{format: "tiff", width: 1000, height: 700}},
		{"WebP", webpImage(1200, 900), imageInfo{format: "webp", width: 1200, height: 900}},
		{"BMP", bmpImage(t, 12, 34), imageInfo{format: "bmp", width: 12, height: 34}},
		{"AVIF", isoImage("avif", "mif1", "miaf"), imageInfo{format: "avif"}},
		{"AVIFCompatible", isoImage("mif1", "avif"), imageInfo{format: "avif"}},
		{"HEIC", isoImage("heic", "mif1"), imageInfo{format: "heic"}},
		{"JPEGXL", []byte("\xff\x0a\xfa\x7f"), imageInfo{format: "jxl"}},
		{"SVG", []byte(svgDoc), imageInfo{format: "svg"}},
		{"SVGBare", []byte("\xef\xbb\xbf  <svg>\n</svg>"), imageInfo{format: "svg"}},
		{"HTMLWithInlineSVG", []byte(loginPage), imageInfo{}},
		{"HTMLDoctypeThenSVG", []byte("<!DOCTYPE html><svg></svg>"), imageInfo{}},
		{"Text", []byte("BMP is not a bitmap"), imageInfo{}},
		{"JSON", []byte(`{"error":"AccessDenied"}`), imageInfo{}},
		{"Empty", nil, imageInfo{}},
		{"TruncatedPNG", testImage(t, "png", 700, 700)[:20], imageInfo{format: "png"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, head, err := sniff(bytes.NewReader(tc.data), nil)
			if err != nil {
				t.Fatalf("sniff: %v", err)
			}
			if got != tc.want {
				t.Errorf("sniff(%s) = %+v; want %+v", tc.name, got, tc.want)
			}
			if n := min(len(tc.data), rangeBytes); len(head) > n {
				t.Errorf("sniff(%s) read %d bytes; want at most %d", tc.name, len(head), n)
			}
		})
	}
}

// TestSniff_ReadsLittle checks that a large image's header is read, not the
// whole range.
func TestSniff_ReadsLittle(t *testing.T) {
	data := append(testImage(t, "png", 2000, 1500), make([]byte, 1<<20)...)
	info, head, err := sniff(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatalf("sniff: %v", err)
	}
	if info.width != 2000 || len(head) != sniffHead {
		t.Errorf("sniff = %+v after %d bytes; want width 2000 after %d bytes", info, len(head), sniffHead)
	}
}

func TestGIFAnimated(t *testing.T) {
	still := gifImage(t, 20, 20, 1)
	moving := gifImage(t, 20, 20, 2)
	cases := []struct {
		name               string
		data               []byte
		animated, complete bool
	}{
		{"Still", still, false, true},
		{"TwoFrames", moving, true, true},
		// The looping block comes before the first frame: enough to tell.
		{"LoopingPrefix", moving[:40], true, false},
		{"StillPrefix", still[:20], false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, c := gifAnimated(tc.data)
			if a != tc.animated || c != tc.complete {
				t.Errorf("gifAnimated(%s) = %v, %v; want %v, %v", tc.name, a, c, tc.animated, tc.complete)
			}
		})
	}
}

func TestCheck_Images(t *testing.T) {
	const accepted = "; the marketplace takes JPEG, PNG, TIFF and non-animated GIF"
	cases := []struct {
		name string
		ct   string
		data []byte
		want Result
	}{
		{
			name: "JPEG", ct: "image/jpeg", data: testImage(t, "jpeg", 1200, 900),
			want: Result{FinalStatus: 206, Format: "jpeg", Width: 1200, Height: 900},
		},
		{
			name: "TIFF", ct: "image/tiff", data: tiffImage(t, 1000, 1500),
			want: Result{FinalStatus: 206, Format: "tiff", Width: 1000, Height: 1500},
		},
		{
			name: "StillGIF", ct: "image/gif", data: gifImage(t, 1000, 1000, 1),
			want: Result{FinalStatus: 206, Format: "gif", Width: 1000, Height: 1000},
		},
		{
			name: "TooSmall", ct: "image/png", data: testImage(t, "png", 400, 300),
			want: Result{FinalStatus: 206, Format: "png", Width: 400, Height: 300, Problems: []Problem{{
				Code:    report.CodeImageTooSmall,
				Message: "the image is 400x300 px; the longest side must be at least 500 px",
				Detail:  map[string]any{"width": 400, "height": 300},
			}}},
		},
		{
			name: "NoZoom", ct: "image/png", data: testImage(t, "png", 600, 800),
			want: Result{FinalStatus: 206, Format: "png", Width: 600, Height: 800, Problems: []Problem{{
				Code:    report.CodeNoZoom,
				Message: "the image is 600x800 px; zoom needs a longest side of at least 1000 px",
				Detail:  map[string]any{"width": 600, "height": 800},
			}}},
		},
		{
			name: "TooLarge", ct: "image/png", data: testImage(t, "png", 10001, 20),
			want: Result{FinalStatus: 206, Format: "png", Width: 10001, Height: 20, Problems: []Problem{{
				Code:    report.CodeImageTooLarge,
				Message: "the image is 10001x20 px; the longest side may be at most 10000 px",
				Detail:  map[string]any{"width": 10001, "height": 20},
			}}},
		},
		{
			// The frame header sits past the first range, behind 192 KiB
			// of ICC profile: a second, deeper read measures it.
			name: "TooSmallBehindMetadata", ct: "image/jpeg", data: jpegWithMetadata(testImage(t, "jpeg", 300, 300), 3),
			want: Result{FinalStatus: 206, Format: "jpeg", Width: 300, Height: 300, Problems: []Problem{{
				Code:    report.CodeImageTooSmall,
				Message: "the image is 300x300 px; the longest side must be at least 500 px",
				Detail:  map[string]any{"width": 300, "height": 300},
			}}},
		},
		{
			name: "AnimatedGIF", ct: "image/gif", data: gifImage(t, 1000, 1000, 2),
			want: Result{FinalStatus: 206, Format: "gif", Width: 1000, Height: 1000, Problems: []Problem{{
				Code:    report.CodeUnsupportedImage,
				Message: "animated GIF images are not accepted" + accepted,
				Detail:  map[string]any{"format": "gif", "animated": true},
			}}},
		},
		{
			name: "WebP", ct: "image/webp", data: webpImage(1500, 1500),
			want: Result{FinalStatus: 206, Format: "webp", Width: 1500, Height: 1500, Problems: []Problem{{
				Code:    report.CodeUnsupportedImage,
				Message: "WebP images are not accepted" + accepted,
				Detail:  map[string]any{"format": "webp"},
			}}},
		},
		{
			name: "AVIF", ct: "image/avif", data: isoImage("avif", "mif1"),
			want: Result{FinalStatus: 206, Format: "avif", Problems: []Problem{{
				Code:    report.CodeUnsupportedImage,
				Message: "AVIF images are not accepted" + accepted,
				Detail:  map[string]any{"format": "avif"},
			}}},
		},
		{
			name: "BMP", ct: "image/bmp", data: bmpImage(t, 10, 10),
			want: Result{FinalStatus: 206, Format: "bmp", Width: 10, Height: 10, Problems: []Problem{{
				Code:    report.CodeUnsupportedImage,
				Message: "BMP images are not accepted" + accepted,
				Detail:  map[string]any{"format": "bmp"},
			}}},
		},
		{
			name: "SVG", ct: "image/svg+xml", data: []byte(svgDoc),
			want: Result{FinalStatus: 206, Format: "svg", Problems: []Problem{{
				Code:    report.CodeUnsupportedImage,
				Message: "SVG images are not accepted" + accepted,
				Detail:  map[string]any{"format": "svg"},
			}}},
		},
		{
			name: "HTMLClaimingJPEG", ct: "image/jpeg", data: []byte(loginPage),
			want: Result{FinalStatus: 206, Problems: []Problem{{
				Code:    report.CodeNotImage,
				Message: "the answer is a web page, not an image (a login wall or a share page, say)",
				Detail:  map[string]any{"contentType": "image/jpeg", "sniffed": "text/html; charset=utf-8"},
			}}},
		},
		{
			// An empty file cannot serve a range: 416, then a plain GET.
			name: "Empty", ct: "image/png", data: nil,
			want: Result{FinalStatus: 200, Problems: []Problem{{
				Code:    report.CodeNotImage,
				Message: "the answer is empty, not an image",
				Detail:  map[string]any{"contentType": "image/png", "sniffed": "empty"},
			}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, serveBytes(tc.ct, tc.data), true, Config{})
			got := e.checker.Check(t.Context(), "https://images.example.com/p/img")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheck_TooManyBytes reads the size from the Content-Range total and
// from Content-Length.
func TestCheck_TooManyBytes(t *testing.T) {
	head := testImage(t, "png", 1200, 1200)
	cases := []struct {
		name   string
		ranged bool
		status int
	}{
		{"ContentRange", true, 206},
		{"ContentLength", false, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const total = 20_000_000
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				body := head
				if tc.ranged {
					w.Header().Set("Content-Range", "bytes 0-65535/20000000")
					w.Header().Set("Content-Length", "65536")
					body = append(append([]byte(nil), head...), make([]byte, 65536-len(head))...)
					w.WriteHeader(http.StatusPartialContent)
				} else {
					w.Header().Set("Content-Length", "20000000")
				}
				_, _ = w.Write(body) // the rest never comes; the checker stops reading
			})
			e := newEnv(t, h, false, Config{})
			got := e.checker.Check(t.Context(), "http://images.example.com/big.png")
			want := Result{FinalStatus: tc.status, Format: "png", Width: 1200, Height: 1200, Problems: []Problem{{
				Code:    report.CodeImageTooLarge,
				Message: "the image file is 20000000 bytes; it may be at most 10485760 bytes (10 MiB)",
				Detail:  map[string]any{"bytes": int64(total)},
			}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResult_OK(t *testing.T) {
	cases := []struct {
		name string
		r    Result
		want bool
	}{
		{"NoProblems", Result{}, true},
		{"Warnings", Result{Problems: []Problem{{Code: report.CodeRedirected}, {Code: report.CodeNoZoom}}}, true},
		{"Error", Result{Problems: []Problem{{Code: report.CodeNoZoom}, {Code: report.CodeNotImage}}}, false},
		{"NotChecked", Result{NotChecked: true}, false},
	}
	for _, tc := range cases {
		if got := tc.r.OK(); got != tc.want {
			t.Errorf("%s: OK() = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// jpegWithMetadata puts n APP2 segments of 65,535 bytes (the size of a
// large ICC profile chunk) right after a JPEG's start-of-image marker.
func jpegWithMetadata(jpg []byte, n int) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for range n {
		seg := make([]byte, 65535+2)
		seg[0], seg[1], seg[2], seg[3] = 0xff, 0xe2, 0xff, 0xff
		copy(seg[4:], "ICC_PROFILE\x00")
		out = append(out, seg...)
	}
	return append(out, jpg[2:]...)
}

func TestJPEGSizeStream(t *testing.T) {
	jpg := testImage(t, "jpeg", 640, 480)
	tests := []struct {
		name   string
		data   []byte
		limit  int64
		w, h   int
		wantOK bool
	}{
		{"Plain", jpg, jpegDeepBytes, 640, 480, true},
		{"BehindMetadata", jpegWithMetadata(jpg, 5), jpegDeepBytes, 640, 480, true},
		{"PastTheLimit", jpegWithMetadata(jpg, 5), 100 << 10, 0, 0, false},
		{"NotJPEG", []byte("<html>"), jpegDeepBytes, 0, 0, false},
		{"Truncated", jpg[:20], jpegDeepBytes, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, h, ok := jpegSizeStream(bytes.NewReader(tc.data), tc.limit)
			if w != tc.w || h != tc.h || ok != tc.wantOK {
				t.Errorf("jpegSizeStream = %d, %d, %v; want %d, %d, %v", w, h, ok, tc.w, tc.h, tc.wantOK)
			}
		})
	}
}
