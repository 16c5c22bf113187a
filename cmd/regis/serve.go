package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/server"
)

// newServeCmd returns `regis serve`. serve, for tests, replaces the API
// server (see server.Options.Serve); nil serves the Kubernetes API.
func newServeCmd(serve server.ServeFunc) *cobra.Command {
	o := server.DefaultOptions()
	logLevel := "info"
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: an embedded etcd in --data-dir, or the cluster of --etcd-servers",
		Long: `Run the server until SIGINT or SIGTERM.

With no --etcd-servers, an embedded single-member etcd keeps its data in
--data-dir. The etcd and storage flags are kube-apiserver's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			o.Serve = serve
			out := cmd.OutOrStdout()
			o.Ready = func(i server.Info) {
				if i.Kubeconfig == "" {
					fmt.Fprintf(out, "regis is serving the Kubernetes API at %s\n", i.URL)
					return
				}
				fmt.Fprintf(out, "regis is serving the Kubernetes API at %s\nadmin kubeconfig: %s\ntry: kubectl --kubeconfig %s get ns\n",
					i.URL, i.Kubeconfig, i.Kubeconfig)
			}
			return server.Run(ctx, o)
		},
	}
	f := cmd.Flags()
	addEtcdFlags(f, &o)
	f.DurationVar(&o.EtcdCompactionInterval, "etcd-compaction-interval", o.EtcdCompactionInterval,
		"The interval of compaction requests. If 0, the compaction request from apiserver is disabled.")
	f.StringVar(&o.StorageMediaType, "storage-media-type", o.StorageMediaType,
		"The media type to use to store objects in storage. Supported media types: [application/json, application/yaml, application/vnd.kubernetes.protobuf]")
	f.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "The port on which to serve HTTPS with authentication and authorization. 0 picks a free port.")
	f.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "The IP address on which to listen for the --secure-port port.")
	f.StringVar(&o.TLSCertFile, "tls-cert-file", "", "File containing the default x509 Certificate for HTTPS. Empty: a certificate signed by a CA generated in <data-dir>/pki.")
	f.StringVar(&o.TLSKeyFile, "tls-private-key-file", "", "File containing the default x509 private key matching --tls-cert-file.")
	f.StringVar(&o.ClientCAFile, "client-ca-file", "", "Any request presenting a client certificate signed by one of the authorities in this file is authenticated with the certificate's CommonName. Empty: the generated CA.")
	f.StringVar(&o.TokenAuthFile, "token-auth-file", "", "If set, the file that will be used to secure the secure port of the API server via token authentication (CSV: token,user,uid[,groups]).")
	f.StringSliceVar(&o.AuthorizationModes, "authorization-mode", authz.DefaultModes, "Ordered list of plug-ins to do authorization on secure port. Defaults to RBAC (kube-apiserver's own default is AlwaysAllow). Comma-delimited list of: AlwaysAllow,AlwaysDeny,RBAC,Node (Node has no opinion: regis has no node authorizer).")
	f.BoolVar(&o.AnonymousAuth, "anonymous-auth", o.AnonymousAuth, "Enables anonymous requests to the secure port of the API server. Requests that are not rejected by another authentication method are treated as anonymous requests. Anonymous requests have a username of system:anonymous, and a group name of system:unauthenticated.")
	f.StringSliceVar(&o.EnableAdmissionPlugins, "enable-admission-plugins", nil, "admission plugins that should be enabled in addition to default enabled ones (NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, Priority, DefaultStorageClass, DefaultIngressClass, MutatingAdmissionPolicy, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota: those regis runs). Upstream's other plugin names are accepted and do nothing (a warning says so). The order of plugins in this flag does not matter.")
	f.StringSliceVar(&o.DisableAdmissionPlugins, "disable-admission-plugins", nil, "admission plugins that should be disabled although they are in the default enabled plugins list. regis can disable ServiceAccount, Priority, DefaultStorageClass, DefaultIngressClass, and the four dynamic plugins together (MutatingAdmissionPolicy, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook). The order of plugins in this flag does not matter.")
	f.StringVar(&o.AdmissionControlConfigFile, "admission-control-config-file", "", "File with admission control configuration (an AdmissionConfiguration; regis reads the PodSecurity plugin's).")
	addServiceAccountFlags(f, &o) // --service-account-*, --api-audiences
	addServiceNetworkFlags(f, &o) // --service-cluster-ip-range, --service-node-port-range
	f.BoolVar(&o.WatchCache, "watch-cache", o.WatchCache, "Enable watch caching in the apiserver")
	f.StringSliceVar(&o.WatchCacheSizes, "watch-cache-sizes", nil, "Watch cache size settings for some resources (pods, nodes, etc.), comma separated. The individual setting format: resource[.group]#size, where resource is lowercase plural (no version), group is omitted for resources of apiVersion v1 (the legacy core API) and included for others. Only 0 has an effect: it disables the cache of that resource.")
	f.StringSliceVar(&o.WatchCacheMaxBytes, "watch-cache-max-bytes", nil, "Memory limits of the watch caches, comma separated: a quantity for all caches together (4Gi) and resource[.group]#quantity for one (pods#1Gi). Past a limit, watches are still served from the cache and lists go to etcd. Empty: no limit.")
	addEncryptionServeFlags(f, &o)
	addSnapshotServeFlags(f, &o)
	addDefragServeFlags(f, &o)
	addAuditServeFlags(f, &o) // --audit-policy-file, --audit-log-*
	f.StringVar(&logLevel, "log-level", logLevel, "Lowest level of the server's logs: debug, info, warn or error.")
	f.StringVar(&o.EtcdLogLevel, "embedded-etcd-log-level", "error",
		"Lowest level of the embedded etcd's own logs: debug, info, warn or error.")
	f.IntVar(&o.EmbeddedEtcdClientPort, "embedded-etcd-client-port", 2379,
		"Port on 127.0.0.1 where the embedded etcd serves clients, over TLS requiring a client certificate signed by the CA in <data-dir>/pki/etcd. 0 picks a free port. Unused with --etcd-servers.")
	f.IntVar(&o.EmbeddedEtcdPeerPort, "embedded-etcd-peer-port", 2380,
		"Port on 127.0.0.1 where the embedded etcd serves peers, over TLS requiring a peer certificate signed by the CA in <data-dir>/pki/etcd. 0 picks a free port. Unused with --etcd-servers.")
	addHAFlags(f, &o)
	return cmd
}
