package server

import "time"

// SetReloadInterval shortens the encryption configuration reload interval
// for a test; the returned function restores it.
func SetReloadInterval(d time.Duration) (restore func()) {
	old := reloadInterval
	reloadInterval = d
	return func() { reloadInterval = old }
}
