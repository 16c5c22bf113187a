package bench

// Medians merges the results of several rounds into one per target and
// phase: the median of each figure; the watch checks are summed (complete
// only if every round was), but for the median of BeforeAck.
func Medians(results []Result) []Result {
	var order []string
	groups := map[string][]Result{}
	for _, r := range results {
		k := r.Target + "/" + r.Phase
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Result, 0, len(order))
	for _, k := range order {
		g := groups[k]
		m := g[0]
		m.Round = 0
		if len(g) > 1 {
			med := func(f func(Result) float64) float64 {
				v := make([]float64, len(g))
				for i, r := range g {
					v[i] = f(r)
				}
				return round3(median(v))
			}
			m.Ops = int(med(func(r Result) float64 { return float64(r.Ops) }))
			m.Errors = int(med(func(r Result) float64 { return float64(r.Errors) }))
			m.Seconds = med(func(r Result) float64 { return r.Seconds })
			m.PerSec = med(func(r Result) float64 { return r.PerSec })
			m.P50ms = med(func(r Result) float64 { return r.P50ms })
			m.P99ms = med(func(r Result) float64 { return r.P99ms })
			m.MaxMs = med(func(r Result) float64 { return r.MaxMs })
			m.WireBytes = int64(med(func(r Result) float64 { return float64(r.WireBytes) }))
			m.BodyBytes = int64(med(func(r Result) float64 { return float64(r.BodyBytes) }))
			m.ServerCPUSec = med(func(r Result) float64 { return r.ServerCPUSec })
			m.ServerCPUmsPerOp = med(func(r Result) float64 { return r.ServerCPUmsPerOp })
			m.ServerRSSBytes = int64(med(func(r Result) float64 { return float64(r.ServerRSSBytes) }))
			m.EtcdCPUSec = med(func(r Result) float64 { return r.EtcdCPUSec })
			m.EtcdRSSBytes = int64(med(func(r Result) float64 { return float64(r.EtcdRSSBytes) }))
			m.ClientCPUSec = med(func(r Result) float64 { return r.ClientCPUSec })
			if m.Watch != nil {
				c := *m.Watch
				for _, r := range g[1:] {
					if w := r.Watch; w != nil {
						c.Complete = c.Complete && w.Complete
						c.Watchers += w.Watchers
						c.CompleteWatchers += w.CompleteWatchers
						c.Missing += w.Missing
						c.Duplicates += w.Duplicates
						c.OutOfOrder += w.OutOfOrder
						c.Unexpected += w.Unexpected
						c.Errors += w.Errors
					}
				}
				c.BeforeAck = int(med(func(r Result) float64 {
					if r.Watch == nil {
						return 0
					}
					return float64(r.Watch.BeforeAck)
				}))
				c.UpdateP50ms = med(func(r Result) float64 { return watchField(r, func(w *WatchCheck) float64 { return w.UpdateP50ms }) })
				c.UpdateP99ms = med(func(r Result) float64 { return watchField(r, func(w *WatchCheck) float64 { return w.UpdateP99ms }) })
				c.FromSendP50ms = med(func(r Result) float64 { return fromSend(r, true) })
				c.FromSendP99ms = med(func(r Result) float64 { return fromSend(r, false) })
				m.Watch = &c
			}
		}
		out = append(out, m)
	}
	return out
}

func fromSend(r Result, p50 bool) float64 {
	if r.Watch == nil {
		return 0
	}
	if p50 {
		return r.Watch.FromSendP50ms
	}
	return r.Watch.FromSendP99ms
}

func watchField(r Result, f func(*WatchCheck) float64) float64 {
	if r.Watch == nil {
		return 0
	}
	return f(r.Watch)
}
