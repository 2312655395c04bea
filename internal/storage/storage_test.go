package storage

import "testing"

func TestOlder(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"Earlier", "0055AED6DCD90281E5", "0055AED6DCD90281E6", true},
		{"Later", "0055AED6DCD90281E6", "0055AED6DCD90281E5", false},
		{"Same", "0055AED6DCD90281E5", "0055AED6DCD90281E5", false},
		{"ShorterPadded", "FF", "0100", true},
		{"LongerPadded", "0100", "FF", false},
		{"MixedCase", "00ab", "00AC", true},
		{"EmptyIsNeverOlder", "", "00AC", false},
		{"AgainstEmpty", "00AC", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Older(tc.a, tc.b); got != tc.want {
				t.Errorf("Older(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
