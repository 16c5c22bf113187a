// Package deps pins the modules the project has chosen (see README) while
// the packages that use them are being written; go mod tidy keeps them.
package deps

import (
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/etcd/client/v3/kubernetes"
	_ "golang.org/x/crypto/nacl/secretbox"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/apiserver/pkg/storage/testing"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/kms/apis/v2"
)
