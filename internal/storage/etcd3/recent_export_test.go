package etcd3

// WrittenTaken is how many watch events took their write's object
// instead of decoding.
func (s *Store) WrittenTaken() int64 { return s.recent.taken.Load() }

// KeepWritten turns the copies for the watch on or off.
func (s *Store) KeepWritten(on bool) { s.recent.off.Store(!on) }
