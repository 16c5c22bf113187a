package codec

import (
	"testing"
)

func TestValidateMediaType(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "", want: MediaTypeProtobuf},
		{in: "application/vnd.kubernetes.protobuf", want: MediaTypeProtobuf},
		{in: "application/json", want: MediaTypeJSON},
		{in: "application/yaml", want: MediaTypeYAML},
		{in: "application/cbor", want: MediaTypeCBOR},
		{in: "application/JSON", wantErr: true},
		{in: "application/json;charset=utf-8", wantErr: true},
		{in: "json", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ValidateMediaType(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ValidateMediaType(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMediaTypesIsACopy(t *testing.T) {
	MediaTypes()[0] = "x"
	if MediaTypes()[0] != MediaTypeCBOR {
		t.Error("MediaTypes returned the package's own slice")
	}
}

func TestDetectMediaType(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{name: "protobuf", data: "k8s\x00\x0a\x00", want: MediaTypeProtobuf},
		{name: "protobuf magic only", data: "k8s\x00", want: MediaTypeProtobuf},
		{name: "cbor", data: "\xd9\xd9\xf7\xa0", want: MediaTypeCBOR},
		{name: "json", data: `{"kind":"Pod"}`, want: MediaTypeJSON},
		{name: "json after white space", data: " \n\t{}", want: MediaTypeJSON},
		{name: "yaml", data: "apiVersion: v1\nkind: Pod\n", want: MediaTypeYAML},
		{name: "encrypted", data: "k8s:enc:aesgcm:v1:key1:\x00\x01", want: ""},
		{name: "empty", data: "", want: ""},
		{name: "white space", data: " \n", want: ""},
		{name: "binary", data: "\x00\x01\xff", want: ""},
		{name: "invalid utf-8", data: "a\xff", want: ""},
		{name: "k8s without NUL", data: "k8s", want: MediaTypeYAML},
	}
	for _, tt := range tests {
		if got := DetectMediaType([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: DetectMediaType(%q) = %q, want %q", tt.name, tt.data, got, tt.want)
		}
	}
}
