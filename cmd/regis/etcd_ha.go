package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/server"
)

// addHAFlags declares `regis serve`'s flags of embedded HA (k3s's names)
// and kube-apiserver's --etcd-servers-overrides.
func addHAFlags(f *pflag.FlagSet, o *server.Options) {
	f.StringSliceVar(&o.EtcdServersOverrides, "etcd-servers-overrides", o.EtcdServersOverrides, ""+
		"Per-resource etcd servers overrides, comma separated. The individual override "+
		"format: group/resource#servers, where servers are URLs, semicolon separated. "+
		"Note that this applies only to resources compiled into this server binary. "+
		`e.g. "/pods#http://etcd4:2379;http://etcd5:2379,/events#http://etcd6:2379"`)
	f.BoolVar(&o.ClusterInit, "cluster-init", false,
		"Make the embedded etcd the first member of a cluster that other servers join with --join; the join token is written to <data-dir>/join-token.")
	f.StringVar(&o.Join, "join", "",
		"https://HOST:PORT of a --cluster-init server: on the first start, add this server's embedded etcd member to its cluster (needs --join-token).")
	f.StringVar(&o.JoinToken, "join-token", "", "The join token of the --join server (the content of its <data-dir>/join-token). --join-token-file keeps it out of the process list.")
	f.Var(tokenFile{&o.JoinToken}, "join-token-file", "A file holding the join token of the --join server (a copy of its <data-dir>/join-token).")
	f.BoolVar(&o.Leave, "leave", false,
		"On a clean shutdown, remove this server's member from the embedded etcd cluster (and its etcd data: a later start joins again).")
	f.StringVar(&o.AdvertiseAddress, "advertise-address", "",
		"The IP address the embedded etcd member listens on and advertises to its peers with --cluster-init or --join. Empty: 127.0.0.1.")
}

// tokenFile is --join-token-file: setting it reads the file into the
// token (its content is never printed).
type tokenFile struct{ token *string }

func (t tokenFile) String() string { return "" }
func (t tokenFile) Type() string   { return "file" }
func (t tokenFile) Set(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the join token: %w", err)
	}
	*t.token = strings.TrimSpace(string(data))
	return nil
}
