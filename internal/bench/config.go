// Package bench is `regis bench`: a load of pods through client-go against
// any API server (creates, gets, lists, a paged traversal, a watch
// fan-out), the CPU and memory the server spends per phase, and a raw etcd
// baseline of the same sizes and concurrency, reported as JSON lines and
// a summary with ratios.
package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/rest"
)

// Target is an API server under load.
type Target struct {
	// Name labels the target's results ("regis", "kube-apiserver").
	Name string
	// Config reaches the server (from a kubeconfig).
	Config *rest.Config
	// Pid, when not 0, is the server's process: its CPU seconds and
	// resident memory are read from /proc for every phase.
	Pid int
	// EtcdPid, when not 0, is the process of the server's etcd, measured
	// the same way.
	EtcdPid int
}

// Phases the load runs, in this order; creates always run (the others
// need the pods).
const (
	PhaseCreate = "create"
	PhaseGet    = "get"
	PhaseList   = "list"  // RV "" and RV "0"
	PhasePaged  = "paged" // a traversal in pages of PageSize
	// PhaseInformer syncs a client-go informer of the pods.
	PhaseInformer = "informer"
	PhaseWatch    = "watch"
	PhaseEtcd     = "etcd" // the raw etcd baseline
	// PhaseExisting replaces the creates when Config.Namespace is set:
	// the existing pods read, and the time until a list at RV "0" (the
	// server's cache) holds every one.
	PhaseExisting = "existing"
)

// AllPhases are the phases run by default.
var AllPhases = []string{PhaseCreate, PhaseGet, PhaseList, PhasePaged, PhaseInformer, PhaseWatch, PhaseEtcd}

// Config is one run: the load, and where it goes.
type Config struct {
	// Targets are loaded one after the other with the same load; ratios
	// compare the first to each other one.
	Targets []Target
	// Etcd, when set, is the etcd of the first target: the raw baseline
	// runs against it, under its own key prefix, cleaned up after.
	Etcd *clientv3.Client
	// EtcdPrefix is the servers' --etcd-prefix ("/registry"): the size of
	// the baseline's values is that of a pod the first target stored.
	EtcdPrefix string

	// ContentType is "json" or "protobuf" (client-go asks for it, and
	// gzip as it always does).
	ContentType string
	Pods        int // created at concurrency Writers
	Writers     int
	Gets        int // at concurrency Writers
	ListRepeats int // lists of all pods at each of RV "" and "0"
	PageSize    int // the paged traversal, ListRepeats times
	Watchers    int
	Updates     int // each delivered to every watcher
	// UpdateWriters write the updates concurrently (1: one after the
	// other, each acknowledged before the next).
	UpdateWriters int
	// WatchTimeout bounds the wait for the last event after the last
	// update.
	WatchTimeout time.Duration
	// Rounds is how many times the whole load runs, the targets
	// alternating; the summary gives the median of each figure.
	Rounds int
	// Phases to run (AllPhases when empty).
	Phases []string
	// NamespacePrefix names each run's namespace (a random suffix added).
	NamespacePrefix string
	// Namespace, when set, is an existing namespace whose pods are loaded
	// instead of creating Pods pods (for instance 100,000 written by
	// Seed); it and its pods are left in place after the run.
	Namespace string

	// Progress, when set, shows progress of long phases (stderr).
	Progress io.Writer
}

// DefaultConfig is the load of issue 16: 2,000 pods, 16 writers, 200
// watchers x 100 updates.
func DefaultConfig() Config {
	return Config{
		EtcdPrefix:      "/registry",
		ContentType:     "protobuf",
		Rounds:          1,
		Pods:            2000,
		Writers:         16,
		Gets:            2000,
		ListRepeats:     20,
		PageSize:        500,
		Watchers:        200,
		Updates:         100,
		UpdateWriters:   1,
		WatchTimeout:    60 * time.Second,
		NamespacePrefix: "regis-bench",
	}
}

// Validate checks the counts and names.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("no server to load"))
	}
	if c.ContentType != "json" && c.ContentType != "protobuf" {
		errs = append(errs, fmt.Errorf("content type %q: want json or protobuf", c.ContentType))
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"pods", c.Pods}, {"writers", c.Writers}, {"page size", c.PageSize}, {"update writers", c.UpdateWriters}} {
		if v.n < 1 {
			errs = append(errs, fmt.Errorf("%s: %d, want at least 1", v.name, v.n))
		}
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"gets", c.Gets}, {"list repeats", c.ListRepeats}, {"watchers", c.Watchers}, {"updates", c.Updates}} {
		if v.n < 0 {
			errs = append(errs, fmt.Errorf("%s: %d, want 0 or more", v.name, v.n))
		}
	}
	for _, p := range c.Phases {
		if !slices.Contains(AllPhases, p) {
			errs = append(errs, fmt.Errorf("phase %q: want one of %s", p, strings.Join(AllPhases, ", ")))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) runs(phase string) bool {
	if phase == PhaseCreate {
		return c.Namespace == ""
	}
	return len(c.Phases) == 0 || slices.Contains(c.Phases, phase)
}
