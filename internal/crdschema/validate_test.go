package crdschema

import (
	"context"
	"strings"
	"testing"
)

const gadget = `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","namespace":"ns"},"spec":{"name":"x"%s}%s}`

func errStrings(t *testing.T, s *Schema, obj, old map[string]any, status bool) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	if status {
		for _, e := range s.ValidateStatus(ctx, obj, old) {
			out = append(out, e.Error())
		}
		return out
	}
	for _, e := range s.Validate(ctx, obj, old) {
		out = append(out, e.Error())
	}
	return out
}

type createCase struct {
	name, spec, rest string
	js               string // the whole object, instead of gadget with spec and rest
	want             []string
}

func (c createCase) json() string {
	if c.js != "" {
		return c.js
	}
	return strings.Replace(strings.Replace(gadget, "%s", c.spec, 1), "%s", c.rest, 1)
}

// createCases are custom resources of gadgets.yaml and upstream's errors for
// them (also run against a real kube-apiserver by oracle_test.go).
var createCases = []createCase{
	{name: "valid", spec: `,"color":"blue","replicas":3,"minReplicas":1,"ratio":2.5,"email":"a@b.c","port":"http","note":null,"tags":["a","b"],"ports":[{"name":"a"},{"name":"b","port":1}]`},
	{name: "int-or-string as int", spec: `,"port":8080`},
	{name: "type", spec: `,"replicas":"3"`, want: []string{
		`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`,
		`.spec.replicas: Invalid value: 0: .spec.replicas accessor error: 3 is of the type string, expected int64`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "enum", spec: `,"color":"green"`, want: []string{
		`spec.color: Unsupported value: "green": supported values: "red", "blue"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "required", js: `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","namespace":"ns"},"spec":{}}`, want: []string{
		`spec.name: Required value`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "pattern and minLength", spec: `,"name":"X"`, want: []string{
		`spec.name: Invalid value: "X": spec.name in body should match '^[a-z]+$'`}},
	{name: "maxLength", spec: `,"name":"abcdefghijklmnopq"`, want: []string{
		`spec.name: Too long: may not be more than 16 bytes`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "minimum and maximum", spec: `,"replicas":11,"minReplicas":-1`, want: []string{
		`spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10`}},
	// An integral JSON number is an int64, and upstream's validator then
	// truncates multipleOf 0.5 to an integer factor 0.
	{name: "exclusiveMaximum and multipleOf", spec: `,"ratio":10`, want: []string{
		`spec.ratio: Invalid value: 0: factor MultipleOf declared for spec.ratio must be positive: 0`,
		`spec.ratio: Invalid value: 10: spec.ratio in body should be less than 10`}},
	{name: "multipleOf", spec: `,"ratio":0.3`, want: []string{
		`spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.5`}},
	{name: "format", spec: `,"email":"nope"`, want: []string{
		`spec.email: Invalid value: "nope": spec.email in body must be of type email: "nope"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "not nullable", spec: `,"email":null`, want: []string{
		`spec.email: Invalid value: "null": spec.email in body must be of type string: "null"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "int-or-string as bool", spec: `,"port":true`, want: []string{
		`spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "maxProperties", spec: `,"labels":{"a":"1","b":"2","c":"3","d":"4"}`, want: []string{
		`spec.labels: Too many: 4: must have at most 3 items`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "maxItems", spec: `,"tags":["a","b","c","d","e"]`, want: []string{
		`spec.tags: Too many: 5: must have at most 4 items`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "list-type set", spec: `,"tags":["a","a"]`, want: []string{
		`spec.tags[1]: Duplicate value: "a"`}},
	{name: "list-type map keys", spec: `,"ports":[{"name":"a"},{"name":"a","port":2}]`, want: []string{
		`spec.ports[1]: Duplicate value: {"name":"a"}`}},
	{name: "embedded resource without apiVersion and kind", spec: `,"template":{"metadata":{"name":"a"}}`, want: []string{
		`spec.template.apiVersion: Required value`,
		`spec.template.kind: Required value`,
		`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
	{name: "embedded resource metadata", spec: `,"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a/b","labels":{"-":"x"}}}`, want: []string{
		`spec.template.metadata.name: Invalid value: "a/b": may not contain '/'`,
		`spec.template.metadata.labels: Invalid value: "-": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`}},
	{name: "CEL rule", spec: `,"replicas":1,"minReplicas":2`, want: []string{
		`spec: Invalid value: replicas must be at least minReplicas`}},
	{name: "scale status replicas", rest: `,"status":{"replicas":-1}`, want: []string{
		`status.replicas: Invalid value: -1: status.replicas in body should be greater than or equal to 0`,
		`.status.replicas: Invalid value: -1: should be a non-negative integer`}},
	{name: "wrong kind", js: `{"apiVersion":"example.com/v2","kind":"Gizmo","metadata":{"name":"a","namespace":"ns"},"spec":{"name":"x"}}`, want: []string{
		`kind: Invalid value: "Gizmo": must be Gadget`,
		`apiVersion: Invalid value: "example.com/v2": must be example.com/v1`}},
}

func TestValidateCreate(t *testing.T) {
	s := compile(t, "gadgets.yaml")
	for _, tc := range createCases {
		t.Run(tc.name, func(t *testing.T) {
			js := tc.json()
			obj := object(t, js)
			s.Default(obj)
			got := errStrings(t, s, obj, nil, false)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}
