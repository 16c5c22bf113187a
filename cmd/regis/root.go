package main

import (
	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/server"
)

// newRootCmd returns the regis command; serve is what `regis serve` runs
// above etcd (see server.Options.Serve).
func newRootCmd(serve server.ServeFunc) *cobra.Command {
	root := &cobra.Command{
		Use:           "regis",
		Short:         "A Kubernetes-compatible API server that stores resources in etcd as kube-apiserver does",
		SilenceErrors: true, // main prints the error once
		SilenceUsage:  true,
	}
	root.AddCommand(withProfiling(newServeCmd(serve)), newVersionCmd())
	root.AddCommand(newEncryptionCmd(), newKMSPluginCmd())
	root.AddCommand(withBenchProfiling(newBenchCmd()))
	root.AddCommand(newInspectCmd())
	root.AddCommand(newSizingCmd())
	root.AddCommand(newSnapshotCmd())
	root.AddCommand(newDefragCmd(), newAlarmCmd(), newDoctorCmd())
	root.AddCommand(newEtcdCmd(), newMigrateCmd())
	return root
}
