package cacher

import "sort"

// snapshots are the cache's state at each revision it applied, oldest
// first, so that a list at an exact revision (or continuing a paged list)
// is served from memory (upstream's ListFromCacheSnapshot). A snapshot is
// a tree root: taking one costs a slice entry. No locking, no goroutines.
type snapshots struct {
	entries []snapshot // entries[start:] are live
	start   int
}

type snapshot struct {
	rv uint64
	t  tree
}

// add records t as the state from rv on (rv never decreases).
func (s *snapshots) add(rv uint64, t tree) {
	if n := len(s.entries); n > s.start && s.entries[n-1].rv >= rv {
		s.entries[n-1] = snapshot{rv: rv, t: t}
		return
	}
	s.entries = append(s.entries, snapshot{rv: rv, t: t})
}

// reset forgets every snapshot but t at rv.
func (s *snapshots) reset(rv uint64, t tree) {
	clear(s.entries)
	s.entries = append(s.entries[:0], snapshot{rv: rv, t: t})
	s.start = 0
}

// at returns the state at rv: the newest snapshot at or below it.
func (s *snapshots) at(rv uint64) (tree, bool) {
	live := s.entries[s.start:]
	i := sort.Search(len(live), func(i int) bool { return live[i].rv > rv })
	if i == 0 {
		return tree{}, false
	}
	return live[i-1].t, true
}

// removeBelow forgets the snapshots older than rv.
func (s *snapshots) removeBelow(rv uint64) {
	live := s.entries[s.start:]
	i := sort.Search(len(live), func(i int) bool { return live[i].rv >= rv })
	clear(live[:i]) // let the trees go
	s.start += i
	// Move the live entries down once the dead prefix is the larger part,
	// so that removal is amortised O(1) per snapshot.
	if s.start > len(s.entries)/2 {
		n := copy(s.entries, s.entries[s.start:])
		clear(s.entries[n:])
		s.entries = s.entries[:n]
		s.start = 0
	}
}

func (s *snapshots) len() int { return len(s.entries) - s.start }
