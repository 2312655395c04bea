package feed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzRead checks that Read never panics, that every error it returns is a
// *FileError (fn never fails here), and that rows come in increasing order
// with cell references on their own row.
func FuzzRead(f *testing.F) {
	// Every text file under testdata is a seed; the workbook is too large
	// to mutate usefully.
	names, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	corpus, err := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*"))
	if err != nil {
		f.Fatal(err)
	}
	names = append(names, corpus...)
	for _, name := range names {
		if strings.HasSuffix(name, ".xlsm") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id,image_link,additional_image_link\nA,\"https://x.example/a.jpg\",\"https://x.example/b.jpg,https://x.example/c.jpg\"\n"))
	f.Add([]byte("Version=1\nsku,mainImageUrl\nW,https://x.example/w.jpg\n"))
	f.Add([]byte("sku;Photo\nS;\x93\xfa\x96\x7b https://x.example/p.jpg\n"))
	f.Add([]byte(fptHeader + "T\t\"A\n\"\"1\"\"\"\thttps://x.example/a.jpg\n\n"))
	f.Add([]byte("settings=attributeRow=2&dataRow=3\nmain_product_image_locator#1.media_location\nhttps://x.example/a.jpg\n"))
	f.Add([]byte(utf16LE("\uFEFF" + fptHeader + "T\tA\thttps://x.example/a.jpg\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		last := 0
		_, err := Read(context.Background(), strings.NewReader(string(data)), Options{MaxRowBytes: 1 << 16, TempDir: t.TempDir()}, func(r Row) error {
			if r.Num <= last {
				t.Fatalf("row %d after row %d", r.Num, last)
			}
			last = r.Num
			for _, c := range r.Images {
				if c.Row != r.Num || !strings.HasSuffix(c.Cell, strconv.Itoa(r.Num)) || c.URL == "" || c.URL != strings.TrimSpace(c.URL) {
					t.Fatalf("bad cell %+v in row %d", c, r.Num)
				}
			}
			return nil
		})
		var fe *FileError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("Read error %v (%T); want *FileError", err, err)
		}
	})
}
