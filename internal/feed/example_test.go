package feed_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/flatguard/flatguard/internal/feed"
)

func ExampleRead() {
	file := "TemplateType=fptcustom\tVersion=2019.1209\r\n" +
		"Product Type\tSeller SKU\tMain Image URL\tOther Image URL1\r\n" +
		"feed_product_type\titem_sku\tmain_image_url\tother_image_url1\r\n" +
		"health\tEX-1\thttps://images.example.com/ex-1.jpg\t\"https://images.example.com/ex-1b.jpg \"\r\n" +
		"health\tEX-2\t\t\r\n"

	info, err := feed.Read(context.Background(), strings.NewReader(file), feed.Options{Name: "feed.txt"}, func(row feed.Row) error {
		fmt.Printf("row %d sku %s needs main image: %v\n", row.Num, row.SKU, row.NeedsMainImage)
		for _, c := range row.Images {
			fmt.Printf("  %s %s main=%v %s\n", c.Cell, c.Column, c.Main, c.URL)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Format, info.Encoding, info.Rows)
	// Output:
	// row 4 sku EX-1 needs main image: true
	//   C4 main_image_url main=true https://images.example.com/ex-1.jpg
	//   D4 other_image_url1 main=false https://images.example.com/ex-1b.jpg
	// row 5 sku EX-2 needs main image: true
	// amazon-fptcustom utf-8 2
}
