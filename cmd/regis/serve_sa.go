package main

import (
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/server"
)

// addServiceAccountFlags registers kube-apiserver's service account token
// flags.
func addServiceAccountFlags(f *pflag.FlagSet, o *server.Options) {
	f.StringVar(&o.ServiceAccountSigningKeyFile, "service-account-signing-key-file", "", "Path to the file that contains the current private key of the service account token issuer. The issuer will sign issued ID tokens with this private key. Empty: an RSA key generated in <data-dir>/pki/sa.key.")
	f.StringArrayVar(&o.ServiceAccountKeyFiles, "service-account-key-file", nil, "File containing PEM-encoded x509 RSA or ECDSA private or public keys, used to verify ServiceAccount tokens. The specified file can contain multiple keys, and the flag can be specified multiple times with different files. The signing key's public key is always used.")
	f.StringArrayVar(&o.ServiceAccountIssuers, "service-account-issuer", nil, "Identifier of the service account token issuer. The issuer will assert this identifier in \"iss\" claim of issued tokens. This value is a string or URI. When this flag is specified multiple times, the first is used to generate tokens and all are used to determine which issuers are accepted. Empty: https://kubernetes.default.svc.cluster.local.")
	f.StringSliceVar(&o.APIAudiences, "api-audiences", nil, "Identifiers of the API. The service account token authenticator will validate that tokens used against the API are bound to at least one of these audiences. If the --service-account-issuer flag is configured and this flag is not, this field defaults to a single element list containing the issuer URL.")
	f.DurationVar(&o.ServiceAccountMaxTokenExpiration, "service-account-max-token-expiration", 0, "The maximum validity duration of a token created by the service account token issuer. If an otherwise valid TokenRequest with a validity duration larger than this value is requested, a token will be issued with a validity duration of this value.")
	f.BoolVar(&o.ServiceAccountExtendTokenExpiration, "service-account-extend-token-expiration", true, "Turns on projected service account expiration extension during token generation, which helps safe transition from legacy token to bound service account token feature. If this flag is enabled, admission injected tokens would be extended up to 1 year to prevent unexpected failure during transition, ignoring value of service-account-max-token-expiration.")
	f.StringVar(&o.ServiceAccountJWKSURI, "service-account-jwks-uri", "", "Overrides the URI for the JSON Web Key Set in the discovery doc served at /.well-known/openid-configuration. This flag is useful if the discovery doc and key set are served to relying parties from a URL other than the API server's external (as auto-detected or overridden with external-hostname).")
}

// addServiceNetworkFlags registers kube-apiserver's service address flags
// and --allow-privileged.
func addServiceNetworkFlags(f *pflag.FlagSet, o *server.Options) {
	f.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", "", "A CIDR notation IP range from which to assign service cluster IPs. This must not overlap with any IP ranges assigned to nodes or pods. Empty: 10.0.0.0/24. regis takes one range (no dual-stack services).")
	f.BoolVar(&o.AllowPrivileged, "allow-privileged", false, "If true, allow privileged containers. [default=false]")
	f.StringVar(&o.ServiceNodePortRange, "service-node-port-range", "", "A port range to reserve for services with NodePort visibility. This must not overlap with the ephemeral port range on nodes. Example: '30000-32767'. Inclusive at both ends of the range. Empty: 30000-32767.")
}
