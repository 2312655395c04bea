package probe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// The formats the checker recognises (Result.Format).
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatGIF  = "gif"
	formatTIFF = "tiff"
	formatWebP = "webp"
	formatBMP  = "bmp"
	formatAVIF = "avif"
	formatHEIC = "heic"
	formatJXL  = "jxl"
	formatSVG  = "svg"
)

// sniffHead is how much is read before deciding whether an answer is an
// image at all; an SVG prolog or a JPEG with small metadata fits in it.
const sniffHead = 4 << 10

// imageInfo is what the first bytes of an answer tell.
type imageInfo struct {
	format        string
	width, height int
	animated      bool
	// deeper is set when the dimensions lie past the bytes read: a JPEG
	// whose frame header follows large metadata (ICC profiles, camera or
	// editor data).
	deeper bool
}

// sniff reads from r only what it needs: sniffHead bytes to find the
// format, then more, doubling up to rangeBytes, while the dimensions need
// it. It reads into buf (from its start; nil is fine) and returns what it
// read, in buf when it was big enough. A body that ends early only leaves the
// dimensions unknown; err is a read error other than the end of the body
// (a timeout, a reset), which the marketplace's fetcher would meet too, so
// the answer is no verdict on the image.
func sniff(r io.Reader, buf []byte) (info imageInfo, head []byte, err error) {
	buf, eof, err := fill(r, buf[:0], sniffHead)
	if err != nil {
		return info, buf, err
	}
	info.format = sniffFormat(buf)
	if info.format == "" {
		return info, buf, nil
	}
	for {
		more := readConfig(&info, buf)
		if !more || eof || len(buf) >= rangeBytes {
			info.deeper = more && len(buf) >= rangeBytes
			return info, buf, nil
		}
		if buf, eof, err = fill(r, buf, min(2*len(buf), rangeBytes)); err != nil {
			return info, buf, err
		}
	}
}

// fill reads from r until buf holds n bytes or the body ends (io.EOF). A
// body cut short of its Content-Length (io.ErrUnexpectedEOF from net/http)
// is an error, not an end: io.ReadFull would blur the two.
func fill(r io.Reader, buf []byte, n int) ([]byte, bool, error) {
	if cap(buf) < n {
		grown := make([]byte, len(buf), n)
		copy(grown, buf)
		buf = grown
	}
	for len(buf) < n {
		m, err := r.Read(buf[len(buf):n])
		buf = buf[:len(buf)+m]
		switch {
		case err == io.EOF:
			return buf, true, nil
		case err != nil:
			return buf, false, err
		}
	}
	return buf, false, nil
}

// sniffFormat tells the format from the magic bytes at the start of b.
func sniffFormat(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")),
		bytes.HasPrefix(b, []byte("II+\x00")), bytes.HasPrefix(b, []byte("MM\x00+")):
		return formatTIFF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	case isBMP(b):
		return formatBMP
	case bytes.HasPrefix(b, []byte{0xff, 0x0a}), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return formatJXL
	}
	if f := isoBrand(b); f != "" {
		return f
	}
	if isSVG(b) {
		return formatSVG
	}
	return ""
}

// isBMP checks "BM" and a known DIB header size, since two letters alone
// also start plain text.
func isBMP(b []byte) bool {
	if len(b) < 18 || b[0] != 'B' || b[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(b[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// isoBrand reads the ftyp box of an ISO media file: AVIF or HEIC.
func isoBrand(b []byte) string {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return ""
	}
	size := int(binary.BigEndian.Uint32(b[:4]))
	size = min(size, len(b))
	found := ""
	for i := 8; i+4 <= size; i += 4 {
		if i == 12 {
			continue // minor version
		}
		switch string(b[i : i+4]) {
		case "avif", "avis":
			return formatAVIF
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			found = formatHEIC
		}
	}
	return found
}

// isSVG reports whether the first element of the text in b is <svg>,
// skipping a BOM, the XML declaration, comments and an SVG doctype. An HTML
// page with inline SVG icons is not SVG.
func isSVG(b []byte) bool {
	s := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		var end []byte
		switch {
		case bytes.HasPrefix(s, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(s, []byte("<!--")):
			end = []byte("-->")
		case hasPrefixFold(s, "<!doctype"):
			end = []byte(">")
			if i := bytes.IndexAny(s, "[>"); i >= 0 && s[i] == '[' {
				end = []byte("]>")
			}
			if i := bytes.Index(s, end); i < 0 || !bytes.Contains(bytes.ToLower(s[:i]), []byte("svg")) {
				return false
			}
		default:
			if !hasPrefixFold(s, "<svg") || len(s) < 5 {
				return false
			}
			c := s[4]
			return c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\r' || c == '\n'
		}
		i := bytes.Index(s, end)
		if i < 0 {
			return false
		}
		s = s[i+len(end):]
	}
}

func hasPrefixFold(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], []byte(prefix))
}

// readConfig fills in the dimensions (and for GIF, animation) from b. It
// reports whether more bytes could tell more.
func readConfig(info *imageInfo, b []byte) bool {
	var decode func(io.Reader) (image.Config, error)
	switch info.format {
	case formatJPEG:
		w, h, more := jpegSize(b)
		info.width, info.height = w, h
		return more
	case formatPNG:
		decode = png.DecodeConfig
	case formatGIF:
		decode = gif.DecodeConfig
	case formatTIFF:
		decode = tiff.DecodeConfig
	case formatWebP:
		decode = webp.DecodeConfig
	case formatBMP:
		decode = bmp.DecodeConfig
	default:
		return false
	}
	cfg, err := decode(bytes.NewReader(b))
	if err != nil {
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	}
	info.width, info.height = cfg.Width, cfg.Height
	if info.format != formatGIF {
		return false
	}
	animated, complete := gifAnimated(b)
	info.animated = animated
	return !complete
}

// gifAnimated walks the block structure of a GIF prefix b. It reports
// whether the file is animated (more than one frame, or a looping
// application block before the file is known to hold one frame only), and
// whether b held the whole file. image/gif cannot answer this without
// decoding every frame of the whole file, hence the walk.
func gifAnimated(b []byte) (animated, complete bool) {
	const header = 13
	if len(b) < header {
		return false, false
	}
	pos := header + colorTableSize(b[10])
	frames, looping := 0, false
	for {
		if pos >= len(b) {
			return looping, false
		}
		switch b[pos] {
		case 0x21: // extension
			if pos+2 >= len(b) {
				return looping, false
			}
			if b[pos+1] == 0xff && pos+14 <= len(b) && b[pos+2] == 11 {
				id := string(b[pos+3 : pos+14])
				looping = looping || id == "NETSCAPE2.0" || id == "ANIMEXTS1.0"
			}
			pos += 2
		case 0x2c: // image descriptor
			frames++
			if frames > 1 {
				return true, true
			}
			if pos+10 >= len(b) {
				return looping, false
			}
			pos += 10 + colorTableSize(b[pos+9]) + 1 // descriptor, table, LZW size
		case 0x3b: // trailer
			return frames > 1, true
		default: // malformed: say no more than is known
			return looping, true
		}
		var ok bool
		if pos, ok = skipSubBlocks(b, pos); !ok {
			return looping, false
		}
	}
}

// colorTableSize returns the bytes of the color table a packed field
// announces.
func colorTableSize(packed byte) int {
	if packed&0x80 == 0 {
		return 0
	}
	return 3 << (packed&7 + 1)
}

// skipSubBlocks skips data sub-blocks up to and including the terminator.
func skipSubBlocks(b []byte, pos int) (int, bool) {
	for pos < len(b) {
		n := int(b[pos])
		pos++
		if n == 0 {
			return pos, true
		}
		pos += n
	}
	return pos, false
}

// jpegSize reads a JPEG's dimensions from its frame header (SOFn), walking
// the marker segments of b from the start. It reports whether more bytes
// could tell them; 0, 0, false means the dimensions are unknown.
//
// Written by hand because image/jpeg.DecodeConfig builds a whole decoder,
// about 13 KiB, for every call: at thousands of URLs a second that garbage
// alone costs more CPU than the rest of a check.
// jpegDeepBytes is how far into a JPEG jpegSizeStream looks for the frame
// header: metadata before it rarely passes a few hundred KiB.
const jpegDeepBytes = 4 << 20

// jpegSizeStream finds a JPEG's dimensions by walking its segments from the
// start of r, skipping their contents, so that memory stays small however
// far the frame header lies; it gives up past limit bytes.
func jpegSizeStream(r io.Reader, limit int64) (width, height int, ok bool) {
	br := bufio.NewReaderSize(io.LimitReader(r, limit), 4<<10)
	var hdr [7]byte
	if _, err := io.ReadFull(br, hdr[:2]); err != nil || hdr[0] != 0xff || hdr[1] != 0xd8 {
		return 0, 0, false
	}
	for {
		c, err := br.ReadByte()
		if err != nil || c != 0xff {
			return 0, 0, false
		}
		m := byte(0xff)
		for m == 0xff {
			if m, err = br.ReadByte(); err != nil {
				return 0, 0, false
			}
		}
		switch {
		case m == 0x01 || m >= 0xd0 && m <= 0xd8:
			continue
		case m == 0xd9 || m == 0xda:
			return 0, 0, false
		}
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return 0, 0, false
		}
		n := int(hdr[0])<<8 | int(hdr[1])
		if n < 2 {
			return 0, 0, false
		}
		if isSOF(m) {
			if _, err := io.ReadFull(br, hdr[2:7]); err != nil {
				return 0, 0, false
			}
			h := int(hdr[3])<<8 | int(hdr[4])
			w := int(hdr[5])<<8 | int(hdr[6])
			return w, h, w > 0 && h > 0
		}
		if _, err := br.Discard(n - 2); err != nil {
			return 0, 0, false
		}
	}
}

func jpegSize(b []byte) (width, height int, more bool) {
	pos := 2 // after SOI
	for {
		// A marker: 0xFF, any fill 0xFF bytes, then the marker code.
		if pos >= len(b) {
			return 0, 0, true
		}
		if b[pos] != 0xff {
			return 0, 0, false // not at a marker: malformed
		}
		for pos < len(b) && b[pos] == 0xff {
			pos++
		}
		if pos >= len(b) {
			return 0, 0, true
		}
		m := b[pos]
		pos++
		switch {
		case m == 0x01 || m >= 0xd0 && m <= 0xd8:
			continue // TEM, RSTn, SOI: no segment
		case m == 0xd9 || m == 0xda:
			return 0, 0, false // EOI or scan data before any frame header
		}
		if pos+2 > len(b) {
			return 0, 0, true
		}
		n := int(b[pos])<<8 | int(b[pos+1])
		if n < 2 {
			return 0, 0, false
		}
		if isSOF(m) {
			// Length, precision, height, width.
			if pos+7 > len(b) {
				return 0, 0, true
			}
			h := int(b[pos+3])<<8 | int(b[pos+4])
			w := int(b[pos+5])<<8 | int(b[pos+6])
			if w == 0 || h == 0 {
				return 0, 0, false // height set later by a DNL segment
			}
			return w, h, false
		}
		pos += n
	}
}

// isSOF reports whether m is a start-of-frame marker: 0xC0-0xCF but DHT
// (C4), JPG (C8) and DAC (CC).
func isSOF(m byte) bool {
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
}
