// Package openapi builds kube-apiserver's OpenAPI documents for the
// resources regis serves: /openapi/v2 (one Swagger 2.0 document) and
// /openapi/v3 (one OpenAPI 3.0 document per group-version).
//
// As upstream, the documents are made by k8s.io/kube-openapi's builders
// (builder for v2, builder3 for v3) from two inputs: the schemas of the
// types, generated from the k8s.io/api types by upstream's openapi-gen
// into the generated package (make openapi), and the routes of the web
// services, which upstream's endpoint installer
// (k8s.io/apiserver/pkg/endpoints/installer.go) declares with go-restful
// and this package declares the same way over a description of each
// resource (Resource). The paths, operation ids, parameters, responses,
// extensions and definition names are upstream's. kube-openapi's handler
// and handler3 serve them (ETag, protobuf, gzip, ?hash= redirects).
package openapi
