package main

import (
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/server"
)

// addEtcdFlags declares, for every command, kube-apiserver's flags of the
// etcd to use (--etcd-servers, its TLS files, --etcd-prefix) and regis's
// --data-dir, whose embedded etcd is used without --etcd-servers.
func addEtcdFlags(f *pflag.FlagSet, o *server.Options) {
	f.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory of the server's own data: its certificates, and the data of the embedded etcd (<data-dir>/etcd) used when --etcd-servers is empty.")
	f.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers,
		"List of etcd servers to connect with (scheme://ip:port), comma separated. Empty: the embedded etcd of --data-dir.")
	f.StringVar(&o.EtcdCAFile, "etcd-cafile", o.EtcdCAFile, "SSL Certificate Authority file used to secure etcd communication.")
	f.StringVar(&o.EtcdCertFile, "etcd-certfile", o.EtcdCertFile, "SSL certification file used to secure etcd communication.")
	f.StringVar(&o.EtcdKeyFile, "etcd-keyfile", o.EtcdKeyFile, "SSL key file used to secure etcd communication.")
	f.StringVar(&o.EtcdPrefix, "etcd-prefix", o.EtcdPrefix, "The prefix to prepend to all resource paths in etcd.")
}
