package openapi

import (
	"k8s.io/kube-openapi/pkg/common"
)

// The types below implement kube-openapi's route interfaces
// (common.RouteContainer, Route, Parameter, StatusCodeResponse) as
// go-restful's web services, routes and parameters do through
// kube-openapi's restfuladapter.

// webService is a route container: upstream's restful.WebService of one
// root path ("/api/v1", "/apis/apps/v1", "/version").
type webService struct {
	root   string
	routes []common.Route
}

func (w *webService) RootPath() string                   { return w.root }
func (w *webService) PathParameters() []common.Parameter { return nil }
func (w *webService) Routes() []common.Route             { return w.routes }

// route is one method of one path.
type route struct {
	method, path, operation, doc string
	params                       []common.Parameter
	consumes, produces           []string
	metadata                     map[string]any
	// reads is the body sample (Reads), writes the response sample
	// (Writes).
	reads, writes any
	responses     []common.StatusCodeResponse
}

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.operation }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.doc }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]any                         { return r.metadata }
func (r *route) RequestPayloadSample() any                        { return r.reads }
func (r *route) ResponsePayloadSample() any                       { return r.writes }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

// returns adds a response, as go-restful's RouteBuilder.Returns.
func (r *route) returns(code int, message string, model any) *route {
	r.responses = append(r.responses, &response{code: code, message: message, model: model})
	return r
}

// param adds parameters.
func (r *route) param(ps ...*param) *route {
	for _, p := range ps {
		r.params = append(r.params, p)
	}
	return r
}

// body declares the request body, as go-restful's RouteBuilder.Reads: a
// parameter named body, required unless optional.
func (r *route) body(sample any, required bool) *route {
	r.reads = sample
	return r.param(&param{name: "body", kind: common.BodyParameterKind, required: required})
}

type response struct {
	code    int
	message string
	model   any
}

func (r *response) Code() int       { return r.code }
func (r *response) Message() string { return r.message }
func (r *response) Model() any      { return r.model }

// param is a route parameter.
type param struct {
	name, description, dataType string
	kind                        common.ParameterKind
	required                    bool
}

func (p *param) Name() string               { return p.name }
func (p *param) Description() string        { return p.description }
func (p *param) Required() bool             { return p.required }
func (p *param) Kind() common.ParameterKind { return p.kind }
func (p *param) DataType() string           { return p.dataType }
func (p *param) AllowMultiple() bool        { return false }

// pathParam and queryParam are go-restful's WebService.PathParameter
// (always required) and QueryParameter.
func pathParam(name, description string) *param {
	return &param{name: name, description: description, dataType: "string", kind: common.PathParameterKind, required: true}
}

func queryParam(name, description, dataType string) *param {
	return &param{name: name, description: description, dataType: dataType, kind: common.QueryParameterKind}
}
