package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/flatguard/flatguard/internal/imagehost"
	"github.com/flatguard/flatguard/internal/probe"
	"github.com/flatguard/flatguard/internal/report"
)

// Images that passed become thumbnails, except those whose URL carries a
// secret: redacted, they would not load, and unredacted they would leak.
func TestRun_ThumbnailsLeaveOutSecretURLs(t *testing.T) {
	host, err := imagehost.Start("images.example.com")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	p := New(Config{AllowLoopback: true}, WithProbe(func(c *probe.Config) {
		c.Resolver, c.Dial, c.RootCAs = host.Resolver(), host.Dial, host.RootCAs()
	}))
	defer p.Close()
	feed := "TemplateType=fptcustom\tVersion=2019.1209\nSKU\tMain\nitem_sku\tmain_image_url\n" +
		"A-1\thttps://images.example.com/a.jpg\n" +
		"A-2\thttps://images.example.com/b.jpg?api_key=s3cr3t\n"
	rep, err := p.Run(context.Background(), Input{Source: report.Source{Path: "feed.txt"}, Name: "feed.txt", Body: strings.NewReader(feed)})
	if err != nil {
		t.Fatal(err)
	}
	want := []report.Thumbnail{{URL: "https://images.example.com/a.jpg", Row: 4, Cell: "B4", SKU: "A-1"}}
	if len(rep.Passed) != 1 || rep.Passed[0] != want[0] {
		t.Errorf("thumbnails = %+v; want %+v", rep.Passed, want)
	}
	if rep.Summary.OKURLs != 2 {
		t.Errorf("okUrls = %d; want 2 (both images answer)", rep.Summary.OKURLs)
	}
}
