package apiserver

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/munnerz/goautoneg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"

	"github.com/regis-dev/regis/internal/codec"
)

// Media types the server speaks.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
	mediaCBOR     = "application/cbor"
)

// scheme is the serving scheme: every built-in type plus the meta.k8s.io
// types (Table, PartialObjectMetadata) that only the HTTP layer uses.
var scheme = sync.OnceValue(func() *runtime.Scheme {
	s, err := codec.NewScheme()
	if err != nil {
		panic(err)
	}
	// Options and WatchEvent under meta.k8s.io/v1, as clients send them.
	metav1.AddToGroupVersion(s, metav1.SchemeGroupVersion)
	if err := metav1.AddMetaToScheme(s); err != nil {
		panic(err)
	}
	return s
})

// codecs are the serializers over scheme. Lists are encoded item by item
// (streaming collection encoding) in JSON and protobuf, so a large list is
// never built whole in memory a second time.
var codecs = sync.OnceValue(func() serializer.CodecFactory {
	return serializer.NewCodecFactory(scheme(),
		serializer.WithSerializer(cbor.NewSerializerInfo),
		serializer.WithStreamingCollectionEncodingToJSON(),
		serializer.WithStreamingCollectionEncodingToProtobuf(),
	)
})

// output is the negotiated response format of a request.
type output struct {
	info runtime.SerializerInfo
	// as is the target kind of a conversion asked for with
	// ";as=Table;g=meta.k8s.io;v=v1" (Table, PartialObjectMetadata,
	// PartialObjectMetadataList), "" for the object itself.
	as string
	// asVersion is the meta.k8s.io version of as.
	asVersion string
}

// contentType returns the Content-Type header of the response.
func (o output) contentType() string {
	ct := o.info.MediaType
	if o.as != "" {
		ct += ";as=" + o.as + ";g=meta.k8s.io;v=" + o.asVersion
	}
	return ct
}

// negotiate picks the response format from the Accept header: the first
// acceptable media type the server supports, JSON when nothing is asked.
// allowAs lists the conversions the endpoint can do. An Accept that names
// nothing usable is a 406.
func negotiate(r *http.Request, allowAs ...string) (output, error) {
	header := r.Header.Get("Accept")
	if header == "" {
		return output{info: serializerFor(mediaJSON)}, nil
	}
	for _, clause := range goautoneg.ParseAccept(header) {
		mt := clause.Type + "/" + clause.SubType
		switch mt {
		case "*/*", "application/*":
			mt = mediaJSON
		}
		info, ok := lookupSerializer(mt)
		if !ok {
			continue
		}
		as := clause.Params["as"]
		if as == "" {
			return output{info: info}, nil
		}
		g, v := clause.Params["g"], clause.Params["v"]
		if g != metav1.GroupName || (v != "v1" && v != "v1beta1") || !contains(allowAs, as) {
			continue
		}
		if as == "Table" && mt != mediaJSON && mt != mediaYAML {
			continue // upstream renders Tables in JSON and YAML only
		}
		return output{info: info, as: as, asVersion: v}, nil
	}
	return output{}, notAcceptable(header)
}

// notAcceptable is the 406 of upstream's handlers (its negotiation
// package's), naming the media types upstream serves by default.
func notAcceptable(header string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable,
		Message: fmt.Sprintf("only the following media types are accepted: %s", strings.Join(producesObject, ", ")),
	}}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lookupSerializer returns the serializer of a media type.
func lookupSerializer(mediaType string) (runtime.SerializerInfo, bool) {
	return runtime.SerializerInfoForMediaType(codecs().SupportedMediaTypes(), mediaType)
}

func serializerFor(mediaType string) runtime.SerializerInfo {
	info, _ := lookupSerializer(mediaType)
	return info
}

// requestSerializer returns the serializer of a request body's
// Content-Type, or a 415 error.
func requestSerializer(r *http.Request) (runtime.SerializerInfo, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = mediaJSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		if info, ok := lookupSerializer(mt); ok {
			return info, nil
		}
	}
	return runtime.SerializerInfo{}, unsupportedMediaType()
}
