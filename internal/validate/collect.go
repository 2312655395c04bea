package validate

import (
	"container/heap"

	"github.com/flatguard/flatguard/internal/report"
)

// collector counts every finding and keeps the first max of them in report
// order, so a file with millions of bad cells costs bounded memory.
type collector struct {
	max      int
	kept     findingHeap
	total    int
	errors   int
	warnings int
	byCode   map[report.Code]int
}

func newCollector(max int) *collector {
	return &collector{max: max, byCode: make(map[report.Code]int)}
}

// add counts f and keeps it when it sorts among the first max findings.
func (c *collector) add(f report.Finding) {
	c.total++
	c.byCode[f.Code]++
	if f.Severity == report.SeverityError {
		c.errors++
	} else {
		c.warnings++
	}
	if len(c.kept) < c.max {
		heap.Push(&c.kept, f)
		return
	}
	if c.max > 0 && report.Less(f, c.kept[0]) {
		c.kept[0] = f
		heap.Fix(&c.kept, 0)
	}
}

// findings returns the kept findings sorted, and how many were left out.
func (c *collector) findings() ([]report.Finding, int) {
	out := make([]report.Finding, len(c.kept))
	copy(out, c.kept)
	report.SortFindings(out)
	return out, c.total - len(out)
}

// findingHeap is a max-heap in report order: its root is the finding that
// would be dropped first.
type findingHeap []report.Finding

func (h findingHeap) Len() int           { return len(h) }
func (h findingHeap) Less(i, j int) bool { return report.Less(h[j], h[i]) }
func (h findingHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *findingHeap) Push(x any)        { *h = append(*h, x.(report.Finding)) }
func (h *findingHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}
