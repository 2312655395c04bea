package presign

import "testing"

// benchURLs are the shapes that dominate a large feed: a plain image URL
// and a SigV4 pre-signed one.
var benchURLs = []struct {
	name string
	url  string
}{
	{"Plain", "https://images.example.com/catalog/EX-VITC-060.MAIN.jpg"},
	{"PlainQuery", "https://images.example.com/catalog/EX-VITC-060.MAIN.jpg?v=1700000000&width=540"},
	{"SigV4", corpusFptSigV4},
}

// Sinks keep the compiler from dropping the calls.
var (
	sinkString string
	sinkBool   bool
)

func BenchmarkDetect(b *testing.B) {
	for _, bu := range benchURLs {
		b.Run(bu.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, _ := Detect(bu.url)
				sinkString = s.Scheme
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	for _, bu := range benchURLs {
		b.Run(bu.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString = Redact(bu.url)
			}
		})
	}
}

func BenchmarkShare(b *testing.B) {
	for _, bu := range benchURLs {
		b.Run(bu.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString, sinkBool = Share(bu.url)
			}
		})
	}
}
