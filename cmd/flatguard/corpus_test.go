package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/report"
)

// checkJSON runs `flatguard check --format json ARGS...` in-process.
func checkJSON(t *testing.T, args ...string) (*report.Report, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"check", "--format", "json"}, args...), &stdout, &stderr)
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("flatguard check %v: stdout is not one JSON report (%v)\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return &rep, code
}

// place is where a finding points a seller.
type place struct {
	Code   report.Code
	Row    int
	Cell   string
	Column string
	SKU    string
}

func places(fs []report.Finding) []place {
	out := make([]place, len(fs))
	for i, f := range fs {
		out[i] = place{f.Code, f.Row, f.Cell, f.Column, f.SKU}
	}
	return out
}

// The two Amazon corpus files through the CLI, offline: the static
// verdicts, with the exact rows, cells and columns a seller must fix.
func TestCheck_CorpusOffline(t *testing.T) {
	t.Run("FptcustomWindows1252", func(t *testing.T) {
		rep, code := checkJSON(t, "--offline", "../../testdata/corpus/amazon_fptcustom_health_2019.1209_header_plus_synthetic.cp1252.txt")
		if code != exitFail || rep.Status != report.StatusFail || rep.Mode != report.ModeOffline {
			t.Errorf("exit %d, status %s, mode %s; want 1, fail, offline", code, rep.Status, rep.Mode)
		}
		want := []place{
			{"presigned_url", 6, "AD6", "main_image_url", "EX-VITC-120"},
			{"insecure_url", 7, "AD7", "main_image_url", "EX-VITC-180"},
			{"presigned_url", 7, "AE7", "other_image_url1", "EX-VITC-180"},
			{"invalid_url", 7, "AF7", "other_image_url2", "EX-VITC-180"},
			{"presigned_url", 8, "AD8", "main_image_url", "EX-VITC-240"},
		}
		if diff := cmp.Diff(want, places(rep.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		s := rep.Summary
		if s.Rows != 5 || s.ImageCells != 11 || s.UniqueURLs != 11 || s.NotChecked != 11 || s.OKURLs != 0 || s.FailedURLs != 0 {
			t.Errorf("summary = %+v; want 5 rows, 11 cells, 11 unique, all 11 not checked", s)
		}
	})
	t.Run("UnifiedWorkbook", func(t *testing.T) {
		rep, code := checkJSON(t, "--offline", "../../testdata/corpus/amazon_unified_LAB_CHEMICAL_2025.1118_anonymized.xlsm")
		if code != exitPass || rep.Status != report.StatusPass || rep.Format != "amazon-unified" || rep.Encoding != "utf-8" {
			t.Errorf("exit %d, status %s, format %s, encoding %s; want 0, pass, amazon-unified, utf-8", code, rep.Status, rep.Format, rep.Encoding)
		}
		const main = "main_product_image_locator[marketplace_id=ATVPDKIKX0DER]#1.media_location"
		// The workbook's SKU column holds product titles: the report shows
		// the file as it is.
		want := []place{
			{"missing_main_image", 11, "IU11", main, "50% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Pre-Mixed Corrosion-Inhibited Heat Transfer Fluid for HVAC, Chillers, and Industrial Cooling Systems – Bulk 50% PG Blend – Made in USA – Example Chem Co"},
			{"missing_main_image", 13, "IU13", main, "Propylene Glycol 50% USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 50% USP Supply – Made in USA – Example Chem Co"},
			{"missing_main_image", 14, "IU14", main, "40% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Corrosion-Inhibited Heat Transfer Fluid for HVAC, Cooling Loops, and Industrial Systems – Bulk 40% Blend Supply – Made in USA – Example Chem Co"},
			{"missing_main_image", 15, "IU15", main, "Propylene Glycol 40% Technical Grade – 330 Gallon IBC Tote – Pre-Mixed Heat Transfer Fluid for Industrial Cooling, HVAC, and Process Systems – Bulk 40% Technical Blend – Made in USA – Example Chem Co"},
			{"missing_main_image", 16, "IU16", main, "Propylene Glycol 40% USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 40% USP Supply – Made in USA – Example Chem Co"},
			{"missing_main_image", 17, "IU17", main, "30% Propylene Glycol Inhibited – 330 Gallon IBC Tote – Corrosion-Inhibited Heat Transfer Fluid for HVAC, Cooling Loops, and Industrial Systems – Bulk 30% Blend Supply – Made in USA – Example Chem Co"},
			{"missing_main_image", 18, "IU18", main, "30% Propylene Glycol Technical Grade – 330 Gallon IBC Tote – Pre-Mixed Heat Transfer Fluid for Industrial Cooling, HVAC, and Process Systems – Bulk 30% Technical Blend – Made in USA – Example Chem Co"},
			{"missing_main_image", 19, "IU19", main, "30% Propylene Glycol USP Grade – 330 Gallon IBC Tote – Pre-Mixed High Purity Glycol for Food Processing, Cosmetics, and Pharmaceutical Use – Bulk 30% USP Supply – Made in USA – Example Chem Co"},
		}
		if diff := cmp.Diff(want, places(rep.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		s := rep.Summary
		if s.Rows != 36 || s.ImageCells != 28 || s.UniqueURLs != 28 || s.Warnings != 8 || s.Errors != 0 {
			t.Errorf("summary = %+v; want 36 rows, 28 cells, 28 unique, 8 warnings, 0 errors", s)
		}
	})
}
