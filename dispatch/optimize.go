package dispatch

// Batch assignment: given a cost matrix of tickets (rows) by engineer slots (columns),
// match as many tickets as possible and, among those matchings, the cheapest. The caller
// expands each engineer into one column per unit of free capacity, so a column takes at
// most one ticket here. These are pure functions; nothing here touches the database.

import (
	"cmp"
	"math"
	"slices"
)

// Unassignable marks a pair that must not be matched (missing skill, outside the radius).
// Any other non-finite entry (NaN, -Inf) is treated the same way.
var Unassignable = math.Inf(1)

// Plan is the result: Match[i] is the column (slot) row i (ticket) gets, or -1 when it
// gets none; Total is the sum of matched costs; Assigned counts matched rows.
type Plan struct {
	Match    []int
	Total    float64
	Assigned int
}

// MinCost assigns rows (tickets) to columns (slots) so that as many rows as possible are
// matched and, among those, the total cost is least. cost[i][j] may be Unassignable.
// Rectangular matrices either way; rows shorter than the longest are treated as padded
// with Unassignable. The same input always gives the same Plan.
//
// Algorithm: the Hungarian method in its shortest-augmenting-path form (as in the
// augmentation phase of Jonker–Volgenant): Dijkstra on reduced costs, with row and
// column potentials. It is run as a min-cost flow from a super source over every free
// row at once to a super sink behind every free column, so each augmentation adds the
// cheapest possible extra row; after k augmentations the matching is the cheapest of
// size k, and when no augmenting path is left it has maximum cardinality (Berge).
// Starting from all free rows matters: the textbook row-by-row loop would let an
// earlier, dearer row take a slot that a later, cheaper row needed when not every row
// can be matched. Unassignable pairs are simply missing edges, so no big-M constant
// is mixed into the sums, and costs in metres stay exact (integers below 2^53 are
// added and subtracted exactly). Worst case O(k²·m) for k matched rows: about 45 ms at
// 300×600 on adversarial inputs where every row ranks the columns alike (cost[i][j] =
// j); on distance matrices the paths are short and 300×600 takes a few milliseconds.
func MinCost(cost [][]float64) Plan {
	n, m, c := assignDense(cost)
	match := make([]int, n)
	for i := range match {
		match[i] = -1
	}
	if n == 0 || m == 0 {
		return Plan{Match: match}
	}
	s := newHungarian(n, m, c, match)
	for s.augment() {
	}
	return assignPlan(cost, match)
}

// Greedy is the baseline a dispatcher would do by hand: repeatedly take the cheapest
// remaining feasible (row, column) pair. Ties go to the lower row, then the lower
// column. It may leave rows unmatched that MinCost would match. Sorting every
// feasible pair makes it O(n·m·log(n·m)).
func Greedy(cost [][]float64) Plan {
	n, m, c := assignDense(cost)
	match := make([]int, n)
	for i := range match {
		match[i] = -1
	}
	// Every feasible pair, at = i*m + j, sorted by cost; ties by at, which is row,
	// then column.
	type pair struct {
		cost float64
		at   int
	}
	pairs := make([]pair, 0, len(c))
	for at, x := range c {
		if x < math.Inf(1) {
			pairs = append(pairs, pair{x, at})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.cost < b.cost:
			return -1
		case a.cost > b.cost:
			return 1
		}
		return cmp.Compare(a.at, b.at)
	})
	taken := make([]bool, m)
	left := min(n, m) // stop once every row or every column is used
	for _, p := range pairs {
		if left == 0 {
			break
		}
		i, j := p.at/m, p.at%m
		if match[i] != -1 || taken[j] {
			continue
		}
		match[i], taken[j] = j, true
		left--
	}
	return assignPlan(cost, match)
}

// assignDense copies cost into a row-major n×m slice with every non-finite or missing entry
// set to +Inf, so both methods need only one kind of "no edge" test.
func assignDense(cost [][]float64) (n, m int, c []float64) {
	n = len(cost)
	for _, row := range cost {
		m = max(m, len(row))
	}
	c = make([]float64, n*m)
	for i, row := range cost {
		out := c[i*m : (i+1)*m]
		for j := range out {
			if j < len(row) && !math.IsInf(row[j], 0) && !math.IsNaN(row[j]) {
				out[j] = row[j]
			} else {
				out[j] = math.Inf(1)
			}
		}
	}
	return n, m, c
}

// assignPlan sums the matched costs from the caller's matrix, in row order so the sum is
// reproducible.
func assignPlan(cost [][]float64, match []int) Plan {
	p := Plan{Match: match}
	for i, j := range match {
		if j >= 0 {
			p.Total += cost[i][j]
			p.Assigned++
		}
	}
	return p
}

// hungarian holds the state of the successive-shortest-path method.
//
// Potentials pr (rows) and pc (columns) keep every reduced cost
// c[i][j] + pr[i] - pc[j] non-negative and zero on matched pairs, which is what lets
// Dijkstra find shortest paths. Invariants maintained by augment:
//   - free rows have potential 0, and a matched row never becomes free again;
//   - all free columns share one potential, at least that of any matched column;
//   - so the current matching is the cheapest of its size.
type hungarian struct {
	n, m     int
	c        []float64 // row-major, +Inf where unassignable
	rowMatch []int     // column of row i, or -1
	colMatch []int     // row of column j, or -1
	pr, pc   []float64 // potentials

	// Dijkstra starts from all free rows at once, so column j is seeded with its
	// cheapest free row. To find that quickly, column j keeps its candK cheapest
	// free rows as of its last scan, sorted, in cand[j*candK:][:candN[j]], with
	// candAt[j] the first not yet matched. Rows only ever leave the free set, so the
	// first buffered row still free is the cheapest free row overall; the column is
	// rescanned only when all its buffered rows are matched. That bounds the work to
	// O(n·m·(n/candK+1)) in all, however many ties there are.
	cand          []rowCost
	candN, candAt []int

	// Dijkstra scratch, reused across augmentations.
	dist    []float64 // tentative reduced distance to column j
	prev    []int     // row from which column j was reached
	done    []bool    // column j is settled
	settled []int     // settled columns, in order
	open    []int     // unsettled columns
}

// rowCost is one feasible entry of a column: the row and what it costs.
type rowCost struct {
	cost float64
	row  int
}

// candK is how many cheapest free rows each column buffers.
const candK = 16

// scan refills column j's buffer with its candK cheapest free rows, ordered by cost
// then row, so ties resolve the same way every time.
func (s *hungarian) scan(j int) {
	buf := s.cand[j*candK : (j+1)*candK]
	k := 0
	for i := range s.n {
		x := s.c[i*s.m+j]
		if s.rowMatch[i] != -1 || x == math.Inf(1) || (k == candK && x >= buf[k-1].cost) {
			continue
		}
		p := k // insertion sort; rows come in order, so equal costs stay by row
		if k < candK {
			k++
		} else {
			p--
		}
		for ; p > 0 && buf[p-1].cost > x; p-- {
			buf[p] = buf[p-1]
		}
		buf[p] = rowCost{x, i}
	}
	s.candN[j], s.candAt[j] = k, 0
}

// cheapestFree returns column j's cheapest free row and its cost, or (-1, +Inf).
func (s *hungarian) cheapestFree(j int) (int, float64) {
	for {
		buf := s.cand[j*candK : j*candK+s.candN[j]]
		at := s.candAt[j]
		for at < len(buf) && s.rowMatch[buf[at].row] != -1 {
			at++
		}
		s.candAt[j] = at
		if at < len(buf) {
			return buf[at].row, buf[at].cost
		}
		if len(buf) < candK {
			// The last scan found every free feasible row, and all are matched now.
			return -1, math.Inf(1)
		}
		s.scan(j)
	}
}

func newHungarian(n, m int, c []float64, rowMatch []int) *hungarian {
	s := &hungarian{
		n: n, m: m, c: c, rowMatch: rowMatch,
		colMatch: make([]int, m),
		pr:       make([]float64, n),
		pc:       make([]float64, m),
		cand:     make([]rowCost, m*candK),
		candN:    make([]int, m),
		candAt:   make([]int, m),
		dist:     make([]float64, m),
		prev:     make([]int, m),
		done:     make([]bool, m),
		open:     make([]int, 0, m),
		settled:  make([]int, 0, m),
	}
	// Start every column at the least finite cost (or 0 if costs are non-negative) so
	// reduced costs are non-negative even when some costs are negative, and free
	// columns share one potential.
	low := 0.0
	for _, x := range c {
		low = min(low, x) // +Inf never wins
	}
	for j := range m {
		s.colMatch[j] = -1
		s.pc[j] = low
		s.scan(j)
	}
	return s
}

// freeBefore breaks ties between columns at equal distance: a free column first (it
// ends the search at once), then the lower index.
func (s *hungarian) freeBefore(a, b int) bool {
	if fa, fb := s.colMatch[a] == -1, s.colMatch[b] == -1; fa != fb {
		return fa
	}
	return a < b
}

// closest relaxes the open columns through row i, reached at reduced distance base
// (i < 0: nothing to relax), and returns the position in open of the closest open
// column, or -1 if none is reachable.
func (s *hungarian) closest(i int, base float64) int {
	m := s.m
	dist, pc := s.dist, s.pc
	var row []float64
	if i >= 0 {
		row = s.c[i*m : (i+1)*m]
	}
	at, best := -1, math.Inf(1)
	for k, j := range s.open {
		d := dist[j]
		if row != nil {
			if nd := base + row[j] - pc[j]; nd < d {
				d, dist[j], s.prev[j] = nd, nd, i
			}
		}
		if d < best || (d == best && at >= 0 && s.freeBefore(j, s.open[at])) {
			at, best = k, d
		}
	}
	return at
}

// augment finds the cheapest path from any free row to any free column, alternating
// unmatched and matched pairs, flips it (one more row matched) and updates the
// potentials. It returns false, changing nothing, when no such path exists, i.e. the
// matching already has maximum cardinality.
func (s *hungarian) augment() bool {
	m, pc, pr, dist := s.m, s.pc, s.pr, s.dist

	// Seed: every free row sits at distance 0 (potential 0), so column j starts at
	// its cheapest free-row cost, reduced.
	s.open = s.open[:0]
	s.settled = s.settled[:0]
	for j := range m {
		i, x := s.cheapestFree(j)
		dist[j], s.prev[j], s.done[j] = x-pc[j], i, false
		s.open = append(s.open, j)
	}

	// Dijkstra over columns: a settled matched column leads, at no extra reduced
	// cost, to its row, whose unmatched pairs are then relaxed. The closest open
	// column is found in the same pass as the relaxation.
	at, found := s.closest(-1, 0), -1
	for at >= 0 {
		j := s.open[at]
		best := dist[j]
		s.open[at] = s.open[len(s.open)-1]
		s.open = s.open[:len(s.open)-1]
		s.done[j] = true
		s.settled = append(s.settled, j)
		i := s.colMatch[j]
		if i == -1 {
			found = j
			break
		}
		// dist[j] already includes the zero-cost hop j -> i.
		at = s.closest(i, best+pr[i])
	}
	if found < 0 {
		return false // nothing reachable is free: maximum cardinality
	}

	// Potentials: add min(dist, D) to every node, D being the distance of the free
	// column found. Settled nodes get their distance, the rest D; this keeps all
	// reduced costs non-negative and makes the path just found tight. Free rows are
	// at distance 0 and keep potential 0. Matched rows are exactly the rows of
	// matched columns, so each is updated once, with its column.
	D := dist[found]
	for _, j := range s.settled {
		pc[j] += dist[j]
		if i := s.colMatch[j]; i >= 0 {
			pr[i] += dist[j]
		}
	}
	for j := range m {
		if !s.done[j] {
			pc[j] += D
			if i := s.colMatch[j]; i >= 0 {
				pr[i] += D
			}
		}
	}

	// Flip the path back from the free column to the free row it started at.
	for j := found; ; {
		i := s.prev[j]
		next := s.rowMatch[i]
		s.rowMatch[i], s.colMatch[j] = j, i
		if next == -1 {
			return true // i was the free row
		}
		j = next
	}
}
