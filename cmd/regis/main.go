// Command regis is a Kubernetes-compatible API server that keeps every
// resource in etcd exactly as kube-apiserver does. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	// nil: serve runs the Kubernetes API above etcd.
	if err := newRootCmd(nil).ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "regis:", err)
		os.Exit(1)
	}
}
