package feed

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// rowResult is what a test keeps of one Row.
type rowResult struct {
	Num   int
	SKU   string
	Needs bool
	Cells []Cell
}

// readAll reads a file from testdata and collects its rows.
func readAll(t *testing.T, name string, opts Options) (Info, []rowResult, error) {
	t.Helper()
	f, err := os.Open(testdataPath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return collect(f, opts)
}

func collect(r interface{ Read([]byte) (int, error) }, opts Options) (Info, []rowResult, error) {
	var rows []rowResult
	info, err := Read(context.Background(), r, opts, func(row Row) error {
		rows = append(rows, rowResult{
			Num:   row.Num,
			SKU:   row.SKU,
			Needs: row.NeedsMainImage,
			Cells: append([]Cell(nil), row.Images...),
		})
		return nil
	})
	return info, rows, err
}

const (
	fptcustomFile     = "amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt"
	listingLoaderFile = "amazon_listingloader_offer_2014.0703_header_plus_synthetic.txt"
	unifiedTextFile   = "amazon_unified_LAB_CHEMICAL_rows1-11.utf8.txt"
	unifiedBookFile   = "amazon_unified_LAB_CHEMICAL_2025.1118_anonymized.xlsm"

	mainProductImage = "main_product_image_locator[marketplace_id=ATVPDKIKX0DER]#1.media_location"
)

var fptcustomImageColumns = []string{
	"main_image_url", "other_image_url1", "other_image_url2", "other_image_url3",
	"other_image_url4", "other_image_url5", "other_image_url6", "other_image_url7",
	"other_image_url8", "swatch_image_url",
}

var unifiedImageColumns = []string{
	"main_offer_image_locator[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_offer_image_locator_1[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_offer_image_locator_2[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_offer_image_locator_3[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_offer_image_locator_4[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_offer_image_locator_5[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	mainProductImage,
	"other_product_image_locator_1[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_2[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_3[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_4[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_5[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_6[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_7[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"other_product_image_locator_8[marketplace_id=ATVPDKIKX0DER]#1.media_location",
	"swatch_product_image_locator[marketplace_id=ATVPDKIKX0DER]#1.media_location",
}

var fptcustomRows = []rowResult{
	{Num: 4, SKU: "EX-VITC-PARENT", Needs: false, Cells: []Cell{
		{Row: 4, Cell: "AD4", Column: "main_image_url", Main: true, URL: "https://images.example.com/catalog/EX-VITC-PARENT.MAIN.jpg"},
	}},
	{Num: 5, SKU: "EX-VITC-060", Needs: true, Cells: []Cell{
		{Row: 5, Cell: "AD5", Column: "main_image_url", Main: true, URL: "https://images.example.com/catalog/EX-VITC-060.MAIN.jpg"},
		{Row: 5, Cell: "AE5", Column: "other_image_url1", URL: "https://images.example.com/catalog/EX-VITC-060.PT01.jpg"},
		{Row: 5, Cell: "AF5", Column: "other_image_url2", URL: "https://images.example.com/catalog/EX-VITC-060.PT02.jpg"},
		{Row: 5, Cell: "AM5", Column: "swatch_image_url", URL: "https://images.example.com/catalog/EX-VITC-060.SWCH.jpg"},
	}},
	{Num: 6, SKU: "EX-VITC-120", Needs: true, Cells: []Cell{
		{Row: 6, Cell: "AD6", Column: "main_image_url", Main: true, URL: "https://example-bucket.s3.eu-west-1.amazonaws.com/products/EX-VITC-120.MAIN.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240105%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20240105T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=3b1f6a9e0c2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789ab"},
		{Row: 6, Cell: "AE6", Column: "other_image_url1", URL: "https://images.example.com/catalog/EX-VITC-120.PT01.jpg"},
	}},
	{Num: 7, SKU: "EX-VITC-180", Needs: true, Cells: []Cell{
		{Row: 7, Cell: "AD7", Column: "main_image_url", Main: true, URL: "http://images.example.com/catalog/EX-VITC-180.MAIN.jpg"},
		{Row: 7, Cell: "AE7", Column: "other_image_url1", URL: "https://d111111abcdef8.cloudfront.net/images/EX-VITC-180.PT01.jpg?Expires=1767290400&Signature=nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~-ar3UocvvRQVw6EkC~GdpGQyyOSKQim-TxAnW7d8F5Kkai9HVx0FIu-5jcQb0UEmatEXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6&Key-Pair-Id=K2JCJMDEHXQW5F"},
		{Row: 7, Cell: "AF7", Column: "other_image_url2", URL: "https://images.example.com/catalog/EX VITC 180 PT02.jpg"},
	}},
	{Num: 8, SKU: "EX-VITC-240", Needs: false, Cells: []Cell{
		{Row: 8, Cell: "AD8", Column: "main_image_url", Main: true, URL: "https://example-bucket.s3.amazonaws.com/EX-VITC-240.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1704450900&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"},
	}},
}

var listingLoaderRows = []rowResult{
	{Num: 4, SKU: "EX-USED-0001", Cells: []Cell{
		{Row: 4, Cell: "T4", Column: "main-offer-image", Main: true, URL: "https://images.example.com/offers/EX-USED-0001.jpg"},
		{Row: 4, Cell: "U4", Column: "offer-image1", URL: "https://images.example.com/offers/EX-USED-0001-back.jpg"},
	}},
	{Num: 5, SKU: "EX-USED-0002", Cells: []Cell{
		{Row: 5, Cell: "T5", Column: "main-offer-image", Main: true, URL: "https://example-bucket.s3.amazonaws.com/offers/EX-USED-0002.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240105%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240105T101500Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}},
}

// unifiedRows are the Template sheet's data rows 7-42, as an independent
// reader of the workbook XML sees them. In this real file the seller put the
// product title into the SKU column (contribution_sku#1.value).
var unifiedRows = []rowResult{
	{Num: 7, Needs: true, SKU: "Propylene Glycol Inhibited ACS Grade – 330 Gallon IBC Tote – High Purity Heat Transfer Fluid for Laboratory, Industrial, and Process Cooling Systems – Corrosion-Inhibited ACS Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 7, Cell: "IU7", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/propylene-glycol-inhibited-acs-330-gallon.jpg?v=1763399495&width=540"}}},
	{Num: 8, Needs: true, SKU: "Propylene Glycol Technical Grade – 330 Gallon IBC Tote – Industrial Heat Transfer Fluid for Cooling Systems, Chemical Processing, and Equipment Protection – Bulk Technical Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 8, Cell: "IU8", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/propylene-glycol-tech-grade-330-gallon.jpg?v=1763399436&width=540"}}},
	{Num: 9, Needs: true, SKU: "Propylene Glycol USP Grade – 330 Gallon IBC Tote – High Purity Pharmaceutical and Food Grade Glycol for Cosmetics, Personal Care, Food Processing, and Manufacturing – Bulk USP Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 9, Cell: "IU9", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/propylene-glycol-usp-grade-330-gallon.jpg?v=1763399249&width=540"}}},
	{Num: 10, Needs: true, SKU: "Ethylene Glycol 30/70 – 330 Gallon IBC Tote – Pre-Mixed Industrial Heat Transfer and Cooling Fluid for HVAC, Chillers, and Process Systems – Corrosion-Inhibited 30/70 Blend – Bulk Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 10, Cell: "IU10", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/30-70-ethylene-glycol-330-gallon.jpg?v=1763400043&width=540"}}},
	{Num: 11, Needs: true, SKU: "50% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Pre-Mixed Corrosion-Inhibited Heat Transfer Fluid for HVAC, Chillers, and Industrial Cooling Systems – Bulk 50% PG Blend – Made in USA – Example Chem Co"},
	{Num: 12, Needs: true, SKU: "50% Propylene Glycol Technical Grade – 330 Gallon IBC Tote – Pre-Mixed Heat Transfer Fluid for Industrial Cooling, HVAC, and Process Systems – Bulk 50% Technical Blend – Made in USA – Example Chem Co", Cells: []Cell{{Row: 12, Cell: "IU12", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/propylene-glycol-tech-50--330--gallon.jpg?v=1764176471&width=540"}}},
	{Num: 13, Needs: true, SKU: "Propylene Glycol 50% USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 50% USP Supply – Made in USA – Example Chem Co"},
	{Num: 14, Needs: true, SKU: "40% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Corrosion-Inhibited Heat Transfer Fluid for HVAC, Cooling Loops, and Industrial Systems – Bulk 40% Blend Supply – Made in USA – Example Chem Co"},
	{Num: 15, Needs: true, SKU: "Propylene Glycol 40% Technical Grade – 330 Gallon IBC Tote – Pre-Mixed Heat Transfer Fluid for Industrial Cooling, HVAC, and Process Systems – Bulk 40% Technical Blend – Made in USA – Example Chem Co"},
	{Num: 16, Needs: true, SKU: "Propylene Glycol 40% USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 40% USP Supply – Made in USA – Example Chem Co"},
	{Num: 17, Needs: true, SKU: "30% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Corrosion-Inhibited Heat Transfer Fluid for HVAC, Cooling Loops, and Industrial Systems – Bulk 30% Blend Supply – Made in USA – Example Chem Co"},
	{Num: 18, Needs: true, SKU: "30% Propylene Glycol Technical Grade – 330 Gallon IBC Tote – Pre-Mixed Heat Transfer Fluid for Industrial Cooling, HVAC, and Process Systems – Bulk 30% Technical Blend – Made in USA – Example Chem Co"},
	{Num: 19, Needs: true, SKU: "30% Propylene Glycol USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 30% USP Supply – Made in USA – Example Chem Co"},
	{Num: 20, Needs: true, SKU: "100% Ethylene Glycol Inhibited – 330 Gallon IBC Tote – Full Strength Inhibited Heat Transfer Fluid for HVAC, Cooling, and Industrial Systems – Bulk EG Blend Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 20, Cell: "IU20", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/ethylene-glycol-inhibited-330-gallon.jpg?v=1763398054&width=540"}}},
	{Num: 21, Needs: true, SKU: "100% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Full Strength Corrosion-Inhibited Heat Transfer Fluid for HVAC, Chillers, Boilers, and Industrial Cooling Systems – Bulk PG Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 21, Cell: "IU21", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/propylene-glycol-inhibited-330-gallon.jpg?v=1763398089&width=540"}}},
	{Num: 22, Needs: true, SKU: "60/40 Methanol / DI Water Solution – 330 Gallon IBC Tote – Pre-Mixed Industrial Solvent for Processing, Extraction, and Cooling Systems – Bulk 60/40 Blend Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 22, Cell: "IU22", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/60-40-methanol-water-330-gallon.jpg?v=1763398976&width=540"}}},
	{Num: 23, Needs: true, SKU: "60/40 Methanol / DI Water Solution ACS Grade – 330 Gallon IBC Tote – High Purity 60/40 Solvent Blend for Lab, Analytical, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 23, Cell: "IU23", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/60-40-methanol-water-acs-330-gallon.jpg?v=1763399017&width=540"}}},
	{Num: 24, Needs: true, SKU: "Denatured Alcohol 190 Proof 3A – 330 Gallon IBC Tote – Industrial Ethanol Blend for Solvent Use, Cleaning, and Processing Applications – Bulk 3A Formula Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 24, Cell: "IU24", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/denatured-alcohol-190-3a-330-gallon.jpg?v=1763399821&width=540"}}},
	{Num: 25, Needs: true, SKU: "Denatured Alcohol 190 Proof 3C – 330 Gallon IBC Tote – Industrial Grade Ethanol Blend for Solvent and Processing Applications – Bulk 3C Formula Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 25, Cell: "IU25", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/denatured-alcohol-190-3c-330-gallon.jpg?v=1763399866&width=540"}}},
	{Num: 26, Needs: true, SKU: "Denatured Alcohol 200 Proof 3A – 330 Gallon IBC Tote – Industrial Ethanol Blend for Solvent and Processing Applications – Bulk 200 Proof 3A Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 26, Cell: "IU26", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/denatured-alcohol-200-3a-330-gallon.jpg?v=1763399912&width=540"}}},
	{Num: 27, Needs: true, SKU: "Denatured Alcohol 200 Proof 3C – 330 Gallon IBC Tote – Industrial Ethanol Blend for Solvent and Processing Applications – Bulk 200 Proof 3C Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 27, Cell: "IU27", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/denatured-alcohol-200-3c-330-gallon.jpg?v=1763399945&width=540"}}},
	{Num: 28, Needs: true, SKU: "Ethylene Glycol 50/50 – 330 Gallon IBC Tote – Pre-Mixed Ethylene Glycol and Water Blend for Industrial Cooling, HVAC Systems, and Heat Transfer Applications – Bulk 50/50 Solution – Made in USA – Example Chem Co", Cells: []Cell{{Row: 28, Cell: "IU28", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/50-50-ethylene-glycol-330-gallon.jpg?v=1763400120&width=540"}}},
	{Num: 29, Needs: true, SKU: "Ethylene Glycol 60/40 – 330 Gallon IBC Tote – Pre-Mixed Coolant and Heat Transfer Fluid for Industrial and HVAC Systems – Bulk 60/40 Blend – Made in USA – Example Chem Co", Cells: []Cell{{Row: 29, Cell: "IU29", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/60-40-ethylene-glycol-330-gallon.jpg?v=1763400146&width=540"}}},
	{Num: 30, Needs: true, SKU: "Ethylene Glycol ACS Grade – 330 Gallon IBC Tote – High Purity Ethylene Glycol for Lab, Analytical, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chemica", Cells: []Cell{{Row: 30, Cell: "IU30", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/ethylene-glycol-acs-330-gallon.jpg?v=1763400182&width=540"}}},
	{Num: 31, Needs: true, SKU: "Ethylene Glycol Inhibited ACS Grade – 330 Gallon IBC Tote – High Purity Inhibited Ethylene Glycol for Lab, Heat Transfer, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 31, Cell: "IU31", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/ethylene-glycol-inhibited-acs-330-gallon.jpg?v=1763400225&width=540"}}},
	{Num: 32, Needs: true, SKU: "Ethylene Glycol Semiconductor Grade – 330 Gallon IBC Tote – Ultra High Purity Glycol for Electronics, Semiconductor Processing, and Industrial Use – Bulk Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 32, Cell: "IU32", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/ethylene-glycol-semiconductor-330-gallon.jpg?v=1763400511&width=540"}}},
	{Num: 33, Needs: true, SKU: "Isobutyl Alcohol 99% – 330 Gallon IBC Tote – High Purity Industrial Solvent for Chemical Processing and Manufacturing Applications – Bulk Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 33, Cell: "IU33", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isobutyl-alcohol-99_-330-gallon.jpg?v=1763401473&width=540"}}},
	{Num: 34, Needs: true, SKU: "Isobutyl Alcohol 99% ACS Grade – 330 Gallon IBC Tote – High Purity Laboratory and Industrial Solvent – Bulk ACS Grade Isobutanol Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 34, Cell: "IU34", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isobutyl-alcohol-99_-acs-330-gallon.jpg?v=1763401496&width=540"}}},
	{Num: 35, Needs: true, SKU: "Isopropyl Alcohol 70% USP Grade – 330 Gallon IBC Tote – High Purity IPA Solution for Lab, Pharmaceutical, and Industrial Use – Bulk USP Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 35, Cell: "IU35", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isoproply-alcohol-70-330-gallon.jpg?v=1763401665&width=540"}}},
	{Num: 36, Needs: true, SKU: "Isopropyl Alcohol 91% USP Grade – 330 Gallon IBC Tote – High Purity IPA for Lab, Pharmaceutical, and Industrial Use – Bulk USP Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 36, Cell: "IU36", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isoproply-alcohol-91-330-gallon.jpg?v=1763401624&width=540"}}},
	{Num: 37, Needs: true, SKU: "Isopropyl Alcohol 99% Technical Grade – 330 Gallon IBC Tote – High Purity Industrial IPA for Chemical Processing, Solvent Applications, and Manufacturing Use – Bulk Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 37, Cell: "IU37", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isoproply-alcohol-99-330-gallon.jpg?v=1763401466&width=540"}}},
	{Num: 38, Needs: true, SKU: "Isopropyl Alcohol 99.9% ACS Reagent Grade – 330 Gallon IBC Tote – High Purity IPA for Lab, Analytical, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 38, Cell: "IU38", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/isoproply-alcohol-99.9-330-gallon.jpg?v=1763401567&width=540"}}},
	{Num: 39, Needs: true, SKU: "Methanol ACS Reagent Grade – 330 Gallon IBC Tote – High Purity Methanol for Lab, Analytical, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 39, Cell: "IU39", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/methanol-reagent-grade-330-gallon.jpg?v=1763401356&width=540"}}},
	{Num: 40, Needs: true, SKU: "Methanol Technical Grade – 330 Gallon IBC Tote – Industrial Methanol for Solvent and Processing Applications – Bulk Technical Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 40, Cell: "IU40", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/methanol-technical-330-gallon.jpg?v=1763401291&width=540"}}},
	{Num: 41, Needs: true, SKU: "n-Propyl Alcohol – 330 Gallon IBC Tote – High Purity Industrial Solvent for Processing and Manufacturing Applications – Bulk n-Propanol Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 41, Cell: "IU41", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/n-propyl-alcohol-330-gallon.jpg?v=1763401041&width=540"}}},
	{Num: 42, Needs: true, SKU: "n-Propyl Alcohol ACS Grade – 330 Gallon IBC Tote – High Purity n-Propanol for Lab, Analytical, and Industrial Use – Bulk ACS Grade Supply – Made in USA – Example Chem Co", Cells: []Cell{{Row: 42, Cell: "IU42", Column: mainProductImage, Main: true, URL: "https://images.example.com/cdn/shop/files/n-propyl-alcohol-acs-330-gallon.jpg?v=1763400892&width=540"}}},
}

func TestRead_Corpus(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantInfo Info
		wantRows []rowResult
	}{
		{
			name:     "Fptcustom",
			file:     fptcustomFile,
			wantInfo: Info{Format: FormatAmazonFptcustom, Encoding: EncodingWindows1252, MainColumn: "main_image_url", ImageColumns: fptcustomImageColumns, Rows: 5},
			wantRows: fptcustomRows,
		},
		{
			name: "ListingLoader",
			file: listingLoaderFile,
			wantInfo: Info{Format: FormatAmazonListingLoader, Encoding: EncodingUTF8, Rows: 2, MainColumn: "main-offer-image", ImageColumns: []string{
				"main-offer-image", "offer-image1", "offer-image2", "offer-image3", "offer-image4", "offer-image5",
			}},
			wantRows: listingLoaderRows,
		},
		{
			name:     "UnifiedText",
			file:     unifiedTextFile,
			wantInfo: Info{Format: FormatAmazonUnified, Encoding: EncodingUTF8, MainColumn: mainProductImage, ImageColumns: unifiedImageColumns, Rows: 5},
			wantRows: unifiedRows[:5],
		},
		{
			name:     "UnifiedWorkbook",
			file:     unifiedBookFile,
			wantInfo: Info{Format: FormatAmazonUnified, Encoding: EncodingUTF8, Sheet: "Template", MainColumn: mainProductImage, ImageColumns: unifiedImageColumns, Rows: 36},
			wantRows: unifiedRows,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, rows, err := readAll(t, tc.file, Options{Name: tc.file})
			if err != nil {
				t.Fatalf("Read(%s) error = %v; want nil", tc.file, err)
			}
			if diff := cmp.Diff(tc.wantInfo, info); diff != "" {
				t.Errorf("Read(%s) info mismatch (-want +got):\n%s", tc.file, diff)
			}
			if diff := cmp.Diff(tc.wantRows, rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read(%s) rows mismatch (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

// The workbook and its tab-delimited export must give the same cells.
func TestRead_UnifiedWorkbookMatchesText(t *testing.T) {
	_, textRows, err := readAll(t, unifiedTextFile, Options{})
	if err != nil {
		t.Fatalf("Read(%s) error = %v", unifiedTextFile, err)
	}
	_, bookRows, err := readAll(t, unifiedBookFile, Options{})
	if err != nil {
		t.Fatalf("Read(%s) error = %v", unifiedBookFile, err)
	}
	if len(bookRows) < 5 {
		t.Fatalf("Read(%s) gave %d rows; want at least 5", unifiedBookFile, len(bookRows))
	}
	if diff := cmp.Diff(bookRows[:5], textRows, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rows 7-11: workbook vs text mismatch (-workbook +text):\n%s", diff)
	}
}

// The cp1252 file's € (0x80) and – (0x96) decode as Windows-1252, not Latin-1.
func TestRead_Windows1252Text(t *testing.T) {
	f, err := os.Open(testdataPath(fptcustomFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[int]string{}
	_, err = Read(context.Background(), f, Options{}, func(row Row) error {
		got[row.Num] = row.Field("product_description") + "|" + row.Field("update_delete") + "|" + row.Field("no_such_column")
		return nil
	})
	if err != nil {
		t.Fatalf("Read error = %v", err)
	}
	want := map[int]string{
		4: "Vitamin C tablets – price from 9,99 € (synthetic row)|Update|",
		5: "|Update|",
		6: "|Update|",
		7: "|Update|",
		8: "|PartialUpdate|",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Row.Field mismatch (-want +got):\n%s", diff)
	}
}

// testdataPath finds a test file: in this package's testdata, or among the
// corpus files the whole repository shares in testdata/corpus.
func testdataPath(name string) string {
	p := filepath.Join("testdata", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join("..", "..", "testdata", "corpus", name)
}
