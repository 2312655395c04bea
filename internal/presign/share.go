package presign

import "strings"

// Share names a cloud-drive share page ("google-drive", "dropbox",
// "onedrive", ...) and reports whether rawURL is one. Only http and https
// URLs are considered; hosts compare case-insensitively. The package
// comment lists the pages recognised and the direct-download forms that
// are not.
func Share(rawURL string) (service string, ok bool) {
	host, path, query, ok := splitHTTP(rawURL)
	if !ok {
		return "", false
	}
	if service, ok = shareService(host, path, query); !ok {
		return "", false
	}
	return service, true
}

// shareService implements Share on the parts of an http(s) URL. The
// service it returns matters only when ok is true.
func shareService(host, path, query string) (service string, ok bool) {
	// No share host is longer; the guard also keeps h on the stack.
	if len(host) > 64 {
		return "", false
	}
	var buf [64]byte
	h := buf[:len(host)]
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h[i] = c
	}

	switch string(h) {
	case "drive.google.com", "docs.google.com", "drive.usercontent.google.com":
		return "google-drive", true
	case "photos.google.com", "photos.app.goo.gl":
		return "google-photos", true
	case "dropbox.com", "www.dropbox.com":
		shared := hasPrefixFold(path, "/s/") || hasPrefixFold(path, "/sh/") || hasPrefixFold(path, "/scl/")
		direct := queryValue(query, "dl") == "1" || queryValue(query, "raw") == "1"
		return "dropbox", shared && !direct
	case "1drv.ms":
		return "onedrive", true
	case "onedrive.live.com":
		return "onedrive", !hasPrefixFold(path, "/download")
	case "icloud.com", "www.icloud.com", "share.icloud.com":
		return "icloud", true
	case "mega.nz", "www.mega.nz", "mega.io", "www.mega.io":
		return "mega", true
	}
	switch {
	case hasSuffix(h, ".sharepoint.com"):
		return "sharepoint", isSharePointLink(path) && queryValue(query, "download") != "1"
	case string(h) == "box.com" || hasSuffix(h, ".box.com"):
		return "box", hasPrefixFold(path, "/s/") || hasPrefixFold(path, "/v/")
	}
	return "", false
}

// hasSuffix is bytes.HasSuffix with a string suffix, without allocating.
func hasSuffix(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && string(b[len(b)-len(suffix):]) == suffix
}

// isSharePointLink reports whether path is a SharePoint / OneDrive for
// Business sharing link: /:i:/g/..., /:u:/r/..., one letter between colons
// naming the kind of item.
func isSharePointLink(path string) bool {
	return len(path) >= 5 && path[0] == '/' && path[1] == ':' && path[3] == ':' && path[4] == '/'
}

// splitHTTP cuts an http or https URL into host (no userinfo, no port, no
// trailing dot), path and query (without '?' and fragment). ok is false
// for any other scheme.
func splitHTTP(raw string) (host, path, query string, ok bool) {
	var rest string
	switch {
	case len(raw) >= 8 && strings.EqualFold(raw[:8], "https://"):
		rest = raw[8:]
	case len(raw) >= 7 && strings.EqualFold(raw[:7], "http://"):
		rest = raw[7:]
	default:
		return "", "", "", false
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	host = rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	return hostPart(host), path, query, true
}

// hasPrefixFold is strings.HasPrefix with ASCII case folding.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// queryValue returns the raw value of the first parameter called name
// (case-insensitive) in query, or "".
func queryValue(query, name string) string {
	for query != "" {
		pair := query
		if i := strings.IndexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			query = ""
		}
		if len(pair) > len(name) && pair[len(name)] == '=' && strings.EqualFold(pair[:len(name)], name) {
			return pair[len(name)+1:]
		}
	}
	return ""
}
