//go:build oracle

package diff

import (
	"net/http"
	"testing"
)

// TestDeprecatedEndpoints: every request on core/v1 Endpoints carries
// upstream's deprecation warning, errors included.
func TestDeprecatedEndpoints(t *testing.T) {
	path := "/api/v1/namespaces/{ns}/endpoints"
	runScenario(t, "deprecated", []request{
		{Name: "create", Method: post, Path: path,
			Body: "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 80}]}]"},
		{Name: "get", Method: get, Path: path + "/e"},
		{Name: "list", Method: get, Path: path},
		{Name: "get missing", Method: get, Path: path + "/missing"},
		{Name: "patch", Method: http.MethodPatch, Path: path + "/e", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "unknown field", Method: post, Path: path + "?fieldValidation=Warn",
			Body: "apiVersion: v1\nkind: Endpoints\nmetadata: {name: f}\nbogus: 1"},
		{Name: "delete", Method: http.MethodDelete, Path: path + "/e"},
		{Name: "bad method", Method: http.MethodPost, Path: path + "/e"},
	})
}
