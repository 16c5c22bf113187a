// Package builtin holds the rows of the built-in resources regis serves
// (Resources) and their per-kind code: defaulting, validation and
// preparation after upstream's strategies, printer columns after kubectl's,
// the events.k8s.io conversion, the allocation of service cluster IPs and
// node ports, the namespace admission rules, and the list of every
// resource kube-apiserver stores with ParseKey, which names the object
// behind any etcd key of a real cluster. Each row is checked against what
// a real kube-apiserver v1.37.2 stored (testdata).
package builtin
