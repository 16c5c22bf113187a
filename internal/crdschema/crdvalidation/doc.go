// Package crdvalidation is upstream's validation of CustomResourceDefinitions,
// k8s.io/apiextensions-apiserver v0.37.2 pkg/apis/apiextensions/validation,
// copied rather than imported.
//
// Why a copy: that package imports k8s.io/apiserver/pkg/util/webhook for three
// small checks (CA bundle, webhook URL, webhook service), and that package's
// closure reaches k8s.io/apiserver/pkg/server/egressselector,
// k8s.io/apiserver/pkg/endpoints/request and k8s.io/apiserver/pkg/audit (plus
// the konnectivity client module), which regis's product code refuses (see
// .ci/run). Everything else it uses (structural schemas, defaulting, CEL,
// OpenAPI validation) is imported from upstream's leaf packages.
//
// Changes from upstream: the file is split by topic into files under 500
// lines, and webhook.ValidateCABundle, ValidateWebhookURL and
// ValidateWebhookService are the unexported copies in webhook.go. Function
// bodies, field paths and messages are upstream's, unchanged. When upgrading
// k8s.io/apiextensions-apiserver, diff upstream's files against these.
package crdvalidation
