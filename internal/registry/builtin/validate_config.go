package builtin

import (
	"encoding/json"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of secrets and config maps (k8s.io/kubernetes
// pkg/apis/core/validation, v1.37).

// validateSecret is upstream's ValidateSecret, metadata excluded: data
// keys, total size and the keys each secret type requires. stringData is
// already merged into data by defaultSecret (upstream: by the conversion
// to the internal type), so its keys are reported as data's.
func validateSecret(o runtime.Object) field.ErrorList {
	s := o.(*corev1.Secret)
	var errs field.ErrorList
	dataPath := field.NewPath("data")
	total := 0
	for k, v := range s.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(dataPath.Key(k), k, msg))
		}
		total += len(v)
	}
	if total > maxSecretSize {
		errs = append(errs, field.TooLong(dataPath, "", maxSecretSize))
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		// Only the service account's name is required; its uid and the
		// token may be added later by a controller.
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeOpaque, "":
	case corev1.SecretTypeDockercfg:
		errs = append(errs, requireJSONKey(s.Data, dataPath, corev1.DockerConfigKey)...)
	case corev1.SecretTypeDockerConfigJson:
		errs = append(errs, requireJSONKey(s.Data, dataPath, corev1.DockerConfigJsonKey)...)
	case corev1.SecretTypeBasicAuth:
		// Either may be empty, but one of them must be there.
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, password := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !password {
			errs = append(errs, field.Required(dataPath.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(dataPath.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		if _, ok := s.Data[corev1.TLSCertKey]; !ok {
			errs = append(errs, field.Required(dataPath.Key(corev1.TLSCertKey), ""))
		}
		if _, ok := s.Data[corev1.TLSPrivateKeyKey]; !ok {
			errs = append(errs, field.Required(dataPath.Key(corev1.TLSPrivateKeyKey), ""))
		}
	}
	return errs
}

// requireJSONKey requires data[key] and a JSON object in it (the docker
// config secret types), with upstream's redacted value.
func requireJSONKey(data map[string][]byte, dataPath *field.Path, key string) field.ErrorList {
	b, ok := data[key]
	if !ok {
		return field.ErrorList{field.Required(dataPath.Key(key), "")}
	}
	if err := json.Unmarshal(b, &map[string]any{}); err != nil {
		return field.ErrorList{field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error())}
	}
	return nil
}

// immutableWhenSetMsg is upstream's message for a change of an object
// whose `immutable` is true.
const immutableWhenSetMsg = "field is immutable when `immutable` is set"

// validateSecretUpdate is upstream's ValidateSecretUpdate beyond
// validateSecret: the type never changes; once immutable, a secret stays
// immutable and its data never changes.
func validateSecretUpdate(o, old runtime.Object) field.ErrorList {
	s, prev := o.(*corev1.Secret), old.(*corev1.Secret)
	errs := apivalidation.ValidateImmutableField(s.Type, prev.Type, field.NewPath("type"))
	if prev.Immutable != nil && *prev.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableWhenSetMsg))
		}
		if !reflect.DeepEqual(s.Data, prev.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableWhenSetMsg))
		}
	}
	return errs
}

// validateConfigMap is upstream's ValidateConfigMap, metadata excluded.
func validateConfigMap(o runtime.Object) field.ErrorList {
	c := o.(*corev1.ConfigMap)
	var errs field.ErrorList
	total := 0
	for k, v := range c.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		if _, dup := c.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		total += len(v)
	}
	for k, v := range c.BinaryData {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, msg))
		}
		total += len(v)
	}
	if total > maxSecretSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxSecretSize))
	}
	return errs
}

// validateConfigMapUpdate is upstream's ValidateConfigMapUpdate beyond
// validateConfigMap: once immutable, a config map stays immutable and its
// data and binaryData never change.
func validateConfigMapUpdate(o, old runtime.Object) field.ErrorList {
	c, prev := o.(*corev1.ConfigMap), old.(*corev1.ConfigMap)
	if prev.Immutable == nil || !*prev.Immutable {
		return nil
	}
	var errs field.ErrorList
	if c.Immutable == nil || !*c.Immutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableWhenSetMsg))
	}
	if !reflect.DeepEqual(c.Data, prev.Data) {
		errs = append(errs, field.Forbidden(field.NewPath("data"), immutableWhenSetMsg))
	}
	if !reflect.DeepEqual(c.BinaryData, prev.BinaryData) {
		errs = append(errs, field.Forbidden(field.NewPath("binaryData"), immutableWhenSetMsg))
	}
	return errs
}
