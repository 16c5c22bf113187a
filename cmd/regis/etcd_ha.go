package main

import (
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/server"
)

// addHAFlags declares `regis serve`'s flags of embedded HA (k3s's names).
func addHAFlags(f *pflag.FlagSet, o *server.Options) {
	f.BoolVar(&o.ClusterInit, "cluster-init", false,
		"Make the embedded etcd the first member of a cluster that other servers join with --join; the join token is written to <data-dir>/join-token.")
	f.StringVar(&o.Join, "join", "",
		"https://HOST:PORT of a --cluster-init server: on the first start, add this server's embedded etcd member to its cluster (needs --join-token).")
	f.StringVar(&o.JoinToken, "join-token", "", "The join token of the --join server (the content of its <data-dir>/join-token).")
	f.BoolVar(&o.Leave, "leave", false,
		"On a clean shutdown, remove this server's member from the embedded etcd cluster (and its etcd data: a later start joins again).")
	f.StringVar(&o.AdvertiseAddress, "advertise-address", "",
		"The IP address the embedded etcd member listens on and advertises to its peers with --cluster-init or --join. Empty: 127.0.0.1.")
}
