package openapi

import (
	"reflect"
	"slices"
	"strings"
)

// prettyParam is the ?pretty parameter every read and write declares.
func prettyParam() *param {
	return queryParam("pretty", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).", "string")
}

// documentable is implemented by the option types: their field
// descriptions by JSON name.
type documentable interface{ SwaggerDoc() map[string]string }

// objectParams turns the top-level fields of an options struct
// (metav1.ListOptions, corev1.PodLogOptions) into query parameters, as
// upstream's AddObjectParams: fields that are interfaces or structs are
// skipped (but *metav1.Time), as are fields without a JSON name and the
// excluded names; the description is the type's SwaggerDoc.
func objectParams(obj any, excluded ...string) []*param {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var docs map[string]string
	if d, ok := obj.(documentable); ok {
		docs = d.SwaggerDoc()
	}
	var out []*param
	for i := range t.NumField() {
		sf := t.Field(i)
		switch sf.Type.Kind() {
		case reflect.Interface, reflect.Struct:
			continue
		case reflect.Pointer:
			elem := sf.Type.Elem().Kind()
			if (elem == reflect.Interface || elem == reflect.Struct) && strings.TrimPrefix(sf.Type.String(), "*") != "metav1.Time" {
				continue
			}
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || slices.Contains(excluded, name) {
			continue
		}
		out = append(out, queryParam(name, docs[name], typeToJSON(sf.Type.String())))
	}
	return out
}

// typeToJSON is upstream's: the JSON type of a Go field type, by its
// name.
func typeToJSON(typeName string) string {
	switch typeName {
	case "bool", "*bool":
		return "boolean"
	case "uint8", "*uint8", "int", "*int", "int32", "*int32", "int64", "*int64", "uint32", "*uint32", "uint64", "*uint64":
		return "integer"
	case "float64", "*float64", "float32", "*float32":
		return "number"
	case "metav1.Time", "*metav1.Time", "byte", "*byte", "*string",
		"v1.DeletionPropagation", "*v1.DeletionPropagation",
		"v1.ResourceVersionMatch", "*v1.ResourceVersionMatch",
		"v1.IncludeObjectPolicy", "*v1.IncludeObjectPolicy":
		return "string"
	case "[]string", "[]*string":
		// go-restful has no array query parameters.
		return "string"
	case "[]int32", "[]*int32":
		return "integer"
	default:
		return typeName
	}
}
