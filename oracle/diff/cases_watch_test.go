//go:build oracle

package diff

import (
	"net/http"
	"testing"
)

// TestWatchStreams compares the events of watches that end on their own
// (timeoutSeconds): initial events from resourceVersion 0, the
// sendInitialEvents stream with its bookmark (gzipped for a client that
// asks), selectors, and the legacy watch path.
func TestWatchStreams(t *testing.T) {
	cm := func(name, label string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", labels: {l: " + label + "}}\ndata: {k: v}"
	}
	path := "/api/v1/namespaces/{ns}/configmaps"
	runScenario(t, "watch", []request{
		{Name: "create a", Method: post, Path: path, Body: cm("a", "x")},
		{Name: "create b", Method: post, Path: path, Body: cm("b", "y")},
		{Name: "update a", Method: http.MethodPatch, Path: path + "/a", ContentType: mergeP, Body: `{"data":{"k":"w"}}`},
		{Name: "delete b", Method: http.MethodDelete, Path: path + "/b"},
		{Name: "create c", Method: post, Path: path, Body: cm("c", "x")},
		{Name: "watch from 0", Method: get, Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1"},
		{Name: "watch label", Method: get, Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1&labelSelector=l%3Dx"},
		{Name: "watch field", Method: get, Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1&fieldSelector=metadata.name%3Dc"},
		{Name: "watch initial events", Method: get,
			Path: path + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"},
		// A watch-list is gzipped for a client that asks (upstream's
		// WatchListCompression), a plain watch is not.
		{Name: "watch initial events gzip", Method: get, Header: map[string]string{"Accept-Encoding": "gzip"},
			Path: path + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"},
		{Name: "watch from 0 gzip", Method: get, Header: map[string]string{"Accept-Encoding": "gzip"},
			Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1"},
		{Name: "watch legacy path", Method: get, Path: "/api/v1/watch/namespaces/{ns}/configmaps?resourceVersion=0&timeoutSeconds=1"},
		{Name: "watch one", Method: get, Path: "/api/v1/watch/namespaces/{ns}/configmaps/a?resourceVersion=0&timeoutSeconds=1"},
		{Name: "watch table", Method: get, Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1",
			Accept: "application/json;as=Table;g=meta.k8s.io;v=v1"},
		{Name: "watch metadata", Method: get, Path: path + "?watch=1&resourceVersion=0&timeoutSeconds=1",
			Accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"},
		{Name: "watch all namespaces", Method: get, Path: "/api/v1/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&labelSelector=l%3Dx"},
	})
}
