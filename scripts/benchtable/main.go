// Command benchtable reads `go test -bench` output on stdin, passes it through to stdout
// as it comes, and then prints a table: sub-benchmarks that share a parent form a group,
// and each figure of each variant stands beside its ratio to the group's baselines (the
// variants whose names start with "baseline").
//
//	go test -run '^$' -bench . ./... | go run ./scripts/benchtable
//
// A ratio is variant ÷ baseline, one column per baseline of the group: below 1 is less of
// the unit (better for ns/op, ms and other costs), above 1 more (better for …/s rates).
// Benchmarks without a parent are listed as they are. A benchmark run several times
// (-count) shows the median of its runs. Column n is the iteration count (b.N): for
// a loop of single calls, how many calls the figures come from. The -N suffix go test appends for GOMAXPROCS is
// dropped when every result line carries the same one, and stated in the table title.
//
// It exits 1, after the table, when the input tells of a failure (the failures are listed
// under the table) or held no benchmark results, so neither passes unnoticed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// result is one benchmark result line.
type result struct {
	pkg, name string  // name with its GOMAXPROCS suffix
	n         float64 // iterations: for a b.Loop of single calls, the number of calls
	values    map[string]float64
	units     []string // in the order the line gives them
}

var (
	// nameOnly is a result line's start when the benchmark wrote output of its own
	// before its figures, which then come on a later line.
	nameOnly = regexp.MustCompile(`^(Benchmark\S*)\s*$`)
	figures  = regexp.MustCompile(`^\s*\d+(\s+[-+0-9.eE]+ \S+)+\s*$`)
	procs    = regexp.MustCompile(`-(\d+)$`)
)

// parseFigures reads "N  v unit  v unit …" into r; false when fields is not that.
func parseFigures(fields []string, r *result) bool {
	if len(fields) < 3 || len(fields)%2 == 0 {
		return false
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return false
	}
	r.n = float64(n)
	r.values = map[string]float64{}
	for i := 1; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return false
		}
		unit := fields[i+1]
		if _, seen := r.values[unit]; !seen {
			r.units = append(r.units, unit)
		}
		r.values[unit] = v
	}
	return true
}

// read copies in to pass and collects the results, and the lines that tell of a
// failure ("--- FAIL: …", "FAIL\tpkg", "panic: …").
func read(in io.Reader, pass io.Writer) (results []result, failures []string, err error) {
	var pkg, pending string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if pass != nil {
			fmt.Fprintln(pass, line)
		}
		if strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "panic: ") {
			failures = append(failures, line)
		}
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if m := nameOnly.FindStringSubmatch(line); m != nil {
			pending = m[1]
			continue
		}
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.HasPrefix(fields[0], "Benchmark") {
			r := result{pkg: pkg, name: fields[0]}
			if parseFigures(fields[1:], &r) {
				results = append(results, r)
			}
			pending = ""
			continue
		}
		if pending != "" && figures.MatchString(line) {
			r := result{pkg: pkg, name: pending}
			if parseFigures(fields, &r) {
				results = append(results, r)
			}
			pending = ""
		}
	}
	return results, failures, sc.Err()
}

// stripProcs drops the -N suffix when all results share it, and returns N ("" if not).
func stripProcs(results []result) string {
	var n string
	for i, r := range results {
		m := procs.FindStringSubmatch(r.name)
		if m == nil || i > 0 && m[1] != n {
			return ""
		}
		n = m[1]
	}
	for i := range results {
		results[i].name = strings.TrimSuffix(results[i].name, "-"+n)
	}
	return n
}

// variant is a benchmark's figures, the median over its runs.
type variant struct {
	name   string // the last element of the benchmark's name
	n      float64
	values map[string]float64
	units  []string
}

type group struct {
	pkg, parent string // parent "" for a benchmark without one
	variants    []*variant
}

// baselines are the variants named baseline…; benchmarks without a parent have none.
func (g *group) baselines() []*variant {
	var out []*variant
	if g.parent == "" {
		return nil
	}
	for _, v := range g.variants {
		if strings.HasPrefix(v.name, "baseline") {
			out = append(out, v)
		}
	}
	return out
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// groupResults groups results by package and parent, in the order they first came.
func groupResults(results []result) []*group {
	var groups []*group
	byKey := map[[2]string]*group{}
	runs := map[[2]string]map[string][]float64{} // package and full name → unit → values
	for _, r := range results {
		parent, name := "", r.name
		if i := strings.LastIndexByte(r.name, '/'); i >= 0 {
			parent, name = r.name[:i], r.name[i+1:]
		}
		gk := [2]string{r.pkg, parent}
		if parent == "" {
			gk[1] = "\x00" // all benchmarks without a parent share a group
		}
		g := byKey[gk]
		if g == nil {
			g = &group{pkg: r.pkg, parent: parent}
			byKey[gk] = g
			groups = append(groups, g)
		}
		vk := [2]string{r.pkg, r.name}
		if runs[vk] == nil {
			runs[vk] = map[string][]float64{}
			g.variants = append(g.variants, &variant{name: name})
		}
		v := g.variants[slices.IndexFunc(g.variants, func(v *variant) bool { return v.name == name })]
		runs[vk]["\x00n"] = append(runs[vk]["\x00n"], r.n)
		for _, u := range r.units {
			if !slices.Contains(v.units, u) {
				v.units = append(v.units, u)
			}
			runs[vk][u] = append(runs[vk][u], r.values[u])
		}
	}
	for _, g := range groups {
		for _, v := range g.variants {
			name := v.name
			if g.parent != "" {
				name = g.parent + "/" + v.name
			}
			v.values = map[string]float64{}
			for u, xs := range runs[[2]string{g.pkg, name}] {
				v.values[u] = median(xs)
			}
			v.n = v.values["\x00n"]
			delete(v.values, "\x00n")
		}
	}
	return groups
}

// format prints a figure with about four significant digits, without exponents.
func format(v float64) string {
	switch a := max(v, -v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func ratio(v, base float64) string {
	if base == 0 {
		return "—"
	}
	r := v / base
	switch {
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64) + "×"
	case r >= 0.01:
		return strconv.FormatFloat(r, 'f', 3, 64) + "×"
	}
	return strconv.FormatFloat(r, 'g', 3, 64) + "×"
}

func printTable(out io.Writer, groups []*group, gomaxprocs string) {
	title := "Benchmarks"
	if gomaxprocs != "" {
		title += " (GOMAXPROCS " + gomaxprocs + ")"
	}
	fmt.Fprintf(out, "\n%s — ratio = variant ÷ baseline: below 1× less of the unit (faster for ns/op and ms),\n"+
		"above 1× more (more for …/s); a group with several baselines gets a column for each.\n", title)
	for _, g := range groups {
		heading := g.parent
		if heading == "" {
			heading = "(no parent)"
		}
		fmt.Fprintf(out, "\n%s  [%s]\n", heading, g.pkg)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		bases := g.baselines()
		hdr := []string{"variant", "n", "unit", "value"}
		for _, b := range bases {
			hdr = append(hdr, "÷ "+b.name)
		}
		fmt.Fprintln(tw, "  "+strings.Join(hdr, "\t"))
		for _, v := range g.variants {
			for i, u := range v.units {
				name, n := "", ""
				if i == 0 {
					name, n = v.name, strconv.FormatFloat(v.n, 'f', 0, 64)
				}
				cells := []string{name, n, u, format(v.values[u])}
				for _, b := range bases {
					base, ok := b.values[u]
					if !ok {
						cells = append(cells, "")
						continue
					}
					cells = append(cells, ratio(v.values[u], base))
				}
				fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
			}
		}
		tw.Flush()
	}
}

func main() {
	quiet := flag.Bool("q", false, "print only the table, not the input")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go test -run '^$' -bench . ./... | go run ./scripts/benchtable [-q]")
		flag.PrintDefaults()
	}
	flag.Parse()
	var pass io.Writer = os.Stdout
	if *quiet {
		pass = nil
	}
	results, failures, err := read(os.Stdin, pass)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(results) > 0 {
		gomaxprocs := stripProcs(results)
		printTable(os.Stdout, groupResults(results), gomaxprocs)
	}
	if len(failures) > 0 {
		fmt.Fprintln(os.Stdout, "\nFailed (see the output above the table):")
		for _, f := range failures {
			fmt.Fprintln(os.Stdout, "  "+f)
		}
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in the input")
		os.Exit(1)
	}
}
