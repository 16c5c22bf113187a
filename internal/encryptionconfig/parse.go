package encryptionconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ErrEmpty is the error of an empty configuration file.
var ErrEmpty = errors.New("encryption provider configuration is empty")

// Defaults kube-apiserver applies to a kms provider.
const (
	DefaultKMSAPIVersion       = "v1"
	DefaultKMSTimeout          = 3 * time.Second
	DefaultKMSCacheSize  int32 = 1000
)

// File is a configuration as read from disk: the parsed, defaulted and
// validated configuration and the hash of the exact bytes it came from.
type File struct {
	Path   string
	Hash   string // "sha256:" + hex(SHA-256(file bytes)), as kube-apiserver reports it
	Config *EncryptionConfiguration
}

// ReadFile reads, parses and validates the configuration at path.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read encryption provider configuration: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("encryption provider configuration %q: %w", path, err)
	}
	return &File{Path: path, Hash: Hash(data), Config: cfg}, nil
}

// Hash is the content hash of a configuration file, "sha256:" and the hex
// SHA-256 of its bytes: the value kube-apiserver shows in
// apiserver_encryption_config_controller_last_config_info.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Parse decodes YAML or JSON strictly (unknown and duplicate fields are
// errors), applies kube-apiserver's defaults and validates the result.
func Parse(data []byte) (*EncryptionConfiguration, error) {
	cfg, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Decode decodes YAML or JSON strictly and applies defaults, without
// validating.
func Decode(data []byte) (*EncryptionConfiguration, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("decode: not an object: %w", err)
	}
	switch {
	case tm.Kind == "":
		return nil, errors.New("decode: kind is missing (want apiVersion " + APIVersion + ", kind " + Kind + ")")
	case tm.APIVersion == APIVersion && tm.Kind == Kind, tm.APIVersion == LegacyAPIVersion && tm.Kind == LegacyKind:
	default:
		return nil, fmt.Errorf("decode: no kind %q is registered for version %q (want apiVersion %s, kind %s)",
			tm.Kind, tm.APIVersion, APIVersion, Kind)
	}
	cfg := new(EncryptionConfiguration)
	strict, err := kjson.UnmarshalStrict(js, cfg)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("strict decoding error: %w", errors.Join(strict...))
	}
	setDefaults(cfg)
	return cfg, nil
}

func setDefaults(cfg *EncryptionConfiguration) {
	for i := range cfg.Resources {
		for j := range cfg.Resources[i].Providers {
			k := cfg.Resources[i].Providers[j].KMS
			if k == nil {
				continue
			}
			if k.Timeout == nil {
				k.Timeout = &metav1.Duration{Duration: DefaultKMSTimeout}
			}
			if k.APIVersion == "" {
				k.APIVersion = DefaultKMSAPIVersion
			}
			if k.CacheSize == nil && k.APIVersion == "v1" {
				size := DefaultKMSCacheSize
				k.CacheSize = &size
			}
		}
	}
}
