// Package fault holds the fault tests of regis with real processes: an
// etcd cluster of `regis etcd` processes and `regis serve` processes on
// 127.0.0.1 (internal/etcd/cluster), killed with SIGKILL under a write
// load, with every acknowledged write, every watch and /readyz checked.
// The quorum-loss test is behind the "faults" build tag (make faults).
package fault
