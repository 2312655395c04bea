package feed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
)

// fptcustomBench builds an fptcustom export of about size bytes: the corpus
// header, then rows with 272 columns and ten image URLs each.
func fptcustomBench(b *testing.B, size int) []byte {
	b.Helper()
	head, err := os.ReadFile(testdataPath(fptcustomFile))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.SplitAfterN(head, []byte("\r\n"), 4)
	var buf bytes.Buffer
	buf.Write(bytes.Join(lines[:3], nil))
	cells := make([][]byte, 272)
	for i := 0; buf.Len() < size; i++ {
		for c := range cells {
			cells[c] = nil
		}
		cells[0] = []byte("HEALTH_PERSONAL_CARE")
		cells[1] = fmt.Appendf(nil, "EX-SKU-%06d", i)
		cells[5] = []byte("ExampleBrand Vitamin C 1000 mg, 60 Tablets \x96 synthetic benchmark row")
		cells[27], cells[28] = []byte("9.99"), []byte("25")
		for c := 29; c <= 38; c++ {
			cells[c] = fmt.Appendf(nil, "https://images.example.com/catalog/EX-SKU-%06d.PT%02d.jpg", i, c-29)
		}
		cells[39], cells[43] = []byte("Child"), []byte("Update")
		cells[45] = []byte("A long product description that a seller would write, repeated to give the row a realistic width. A long product description that a seller would write.")
		buf.Write(bytes.Join(cells, []byte("\t")))
		buf.WriteString("\r\n")
	}
	return buf.Bytes()
}

func BenchmarkRead(b *testing.B) {
	data := fptcustomBench(b, 20<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cells := 0
		_, err := Read(context.Background(), bytes.NewReader(data), Options{}, func(r Row) error {
			cells += len(r.Images)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if cells == 0 {
			b.Fatal("no image cells")
		}
	}
}
