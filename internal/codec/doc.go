// Package codec turns built-in Kubernetes objects into the bytes kube-apiserver
// stores in etcd, and back.
//
// It is a thin assembly of apimachinery serializers over a scheme holding every
// group-version of k8s.io/api and the aggregator's apiregistration.k8s.io/v1
// (internal/apis/apiregistration/v1): the protobuf envelope ("k8s\x00" + runtime.Unknown),
// JSON, YAML and CBOR are produced by apimachinery itself, so the bytes are
// upstream's bytes. A codec encodes with the serializer named by
// --storage-media-type and decodes any of the four formats, whatever it writes,
// so that switching the media type leaves old values readable.
//
// regis has no internal versions: the object in memory is the versioned
// k8s.io/api type at the resource's storage version (a *corev1.Pod, an
// *autoscalingv2.HorizontalPodAutoscaler). The codec never converts between
// versions; a value stored at another version of the group fails to decode with
// a conversion error.
//
// The package knows nothing about etcd, keys, encryption or custom resources.
package codec
