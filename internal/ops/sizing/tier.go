package sizing

import "fmt"

// Tier is a row of the seed's sizing table (section 4.1): the cluster
// scale it is for and the etcd it recommends.
type Tier struct {
	Name string `json:"name"`
	// MaxNodes and MaxPods bound the tier: up to MaxNodes nodes and under
	// MaxPods pods.
	MaxNodes int64 `json:"maxNodes"`
	MaxPods  int64 `json:"maxPods"`
	Members  int   `json:"members"`
	CPU      int   `json:"cpu"`
	MemoryGB int   `json:"memoryGB"`
	DiskGB   int   `json:"diskGB"`
}

// Tiers is the seed's table: Small 10-50 nodes and under 1000 pods, Medium
// 50-200 nodes and under 5000 pods, Large 200-1000 nodes and under 50000
// pods. A cluster past Large's bounds gets Large and a warning.
var Tiers = []Tier{
	{Name: "Small", MaxNodes: 50, MaxPods: 1000, Members: 3, CPU: 2, MemoryGB: 8, DiskGB: 50},
	{Name: "Medium", MaxNodes: 200, MaxPods: 5000, Members: 3, CPU: 4, MemoryGB: 16, DiskGB: 100},
	{Name: "Large", MaxNodes: 1000, MaxPods: 50000, Members: 5, CPU: 8, MemoryGB: 32, DiskGB: 200},
}

// Recommendation is the tier a population needs and why.
type Recommendation struct {
	Tier
	// DrivenBy is the figure that chose the tier ("pods 1,200 ≥ 1,000").
	DrivenBy string `json:"drivenBy"`
	// Headroom says how far the nearest bound of the tier is ("3,800 pods
	// (76%) before Large"); empty past the table.
	Headroom string `json:"headroom,omitempty"`
	// Beyond is set when the population passes the table's last row.
	Beyond bool `json:"beyond,omitempty"`
}

// tierFor is the index of the first tier holding n under the bound of
// field (nodes: up to MaxNodes; pods: under MaxPods), len(Tiers) past all.
func tierFor(n int64, pods bool) int {
	for i, t := range Tiers {
		if (pods && n < t.MaxPods) || (!pods && n <= t.MaxNodes) {
			return i
		}
	}
	return len(Tiers)
}

// Recommend picks the tier of a cluster of nodes and pods: the larger of
// the tiers each figure needs.
func Recommend(nodes, pods int64) Recommendation {
	byNodes, byPods := tierFor(nodes, false), tierFor(pods, true)
	i, usePods := byNodes, false
	if byPods > byNodes || (byPods == byNodes && float64(pods)/float64(boundOf(byPods, true)) > float64(nodes)/float64(boundOf(byNodes, false))) {
		i, usePods = byPods, true
	}
	var r Recommendation
	what, n := "nodes", nodes
	if usePods {
		what, n = "pods", pods
	}
	if i >= len(Tiers) {
		r.Tier, r.Beyond = Tiers[len(Tiers)-1], true
		r.DrivenBy = fmt.Sprintf("%s %s: past the table's largest tier (%s)", what, count(n), limitText(len(Tiers)-1, usePods))
		return r
	}
	r.Tier = Tiers[i]
	if i == 0 {
		r.DrivenBy = fmt.Sprintf("%s %s: within %s (%s)", what, count(n), r.Name, limitText(i, usePods))
	} else {
		r.DrivenBy = fmt.Sprintf("%s %s: past %s (%s)", what, count(n), Tiers[i-1].Name, limitText(i-1, usePods))
	}
	// Headroom: the figure closest to its bound in this tier.
	nodeLeft := Tiers[i].MaxNodes - nodes
	podLeft := Tiers[i].MaxPods - pods
	next := "the table's end"
	if i+1 < len(Tiers) {
		next = Tiers[i+1].Name
	}
	if float64(podLeft)/float64(Tiers[i].MaxPods) <= float64(nodeLeft)/float64(Tiers[i].MaxNodes) {
		r.Headroom = fmt.Sprintf("%s more pods (%d%% of %s) before %s", count(podLeft), podLeft*100/Tiers[i].MaxPods, count(Tiers[i].MaxPods), next)
	} else {
		r.Headroom = fmt.Sprintf("%s more nodes (%d%% of %s) before %s", count(nodeLeft+1), nodeLeft*100/Tiers[i].MaxNodes, count(Tiers[i].MaxNodes), next)
	}
	return r
}

func boundOf(i int, pods bool) int64 {
	i = min(i, len(Tiers)-1)
	if pods {
		return Tiers[i].MaxPods
	}
	return Tiers[i].MaxNodes
}

func limitText(i int, pods bool) string {
	if pods {
		return fmt.Sprintf("under %s pods", count(Tiers[i].MaxPods))
	}
	return fmt.Sprintf("up to %s nodes", count(Tiers[i].MaxNodes))
}

// count renders n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
