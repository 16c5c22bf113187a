// Command regis is a Kubernetes-compatible API server that keeps every
// resource in etcd exactly as kube-apiserver does. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	// serve runs above etcd: nil keeps etcd and the compactor running until
	// a signal. The API server plugs in here (a server.ServeFunc).
	if err := newRootCmd(nil).ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "regis:", err)
		os.Exit(1)
	}
}
