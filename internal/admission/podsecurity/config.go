package podsecurity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	psapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/admission/api/load"
	"sigs.k8s.io/yaml"
)

// maxConfigBytes bounds the configuration files read.
const maxConfigBytes = 3 << 20

// admissionConfiguration is upstream's AdmissionConfiguration
// (apiserver.config.k8s.io/v1), the format of
// --admission-control-config-file.
type admissionConfiguration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Plugins    []struct {
		Name          string          `json:"name"`
		Path          string          `json:"path,omitempty"`
		Configuration json.RawMessage `json:"configuration,omitempty"`
	} `json:"plugins"`
}

// The versions of AdmissionConfiguration upstream decodes.
var admissionConfigurationVersions = map[string]bool{
	"apiserver.config.k8s.io/v1": true, "apiserver.config.k8s.io/v1alpha1": true, "apiserver.k8s.io/v1alpha1": true,
}

// pluginConfig returns the configuration of the named plugin in the
// AdmissionConfiguration file, nil when there is none, as upstream's
// ReadAdmissionConfiguration and ConfigFor: a nested configuration
// first, else the file at the plugin's path (relative to the file's
// directory). A file of one of the two legacy unversioned formats
// (imagePolicy, podNodeSelectorPluginConfig) configures nothing here.
func pluginConfig(file, plugin string) ([]byte, error) {
	if file == "" {
		return nil, nil
	}
	data, err := readBounded(file)
	if err != nil {
		return nil, fmt.Errorf("unable to read admission control configuration from %q [%v]", file, err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("admission control configuration %q: %v", file, err)
	}
	var conf admissionConfiguration
	var typeMeta struct{ APIVersion, Kind string }
	_ = json.Unmarshal(js, &typeMeta)
	conf.APIVersion, conf.Kind = typeMeta.APIVersion, typeMeta.Kind
	if conf.Kind != "AdmissionConfiguration" || !admissionConfigurationVersions[conf.APIVersion] {
		var legacy map[string]any
		if json.Unmarshal(js, &legacy) == nil {
			_, image := legacy["imagePolicy"]
			_, selector := legacy["podNodeSelectorPluginConfig"]
			if image || selector {
				return nil, nil
			}
		}
		if conf.Kind == "" || conf.APIVersion == "" {
			return nil, fmt.Errorf("admission control configuration %q: Object 'Kind' or 'apiVersion' is missing", file)
		}
		return nil, fmt.Errorf("admission control configuration %q: no kind %q is registered for version %q", file, conf.Kind, conf.APIVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields() // upstream decodes strictly
	if err := dec.Decode(&conf); err != nil {
		return nil, fmt.Errorf("admission control configuration %q: %v", file, err)
	}
	for _, p := range conf.Plugins {
		if p.Name != plugin {
			continue
		}
		if len(p.Configuration) > 0 && string(p.Configuration) != "null" {
			return p.Configuration, nil
		}
		if p.Path == "" {
			return nil, nil
		}
		path := p.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
		b, err := readBounded(path)
		if err != nil {
			return nil, fmt.Errorf("couldn't open admission plugin configuration %s: %v", path, err)
		}
		return b, nil
	}
	return nil, nil
}

// loadConfiguration decodes a PodSecurityConfiguration
// (pod-security.admission.config.k8s.io/v1, v1beta1, v1alpha1) with the
// library's scheme and defaults; nil data gives the defaults.
func loadConfiguration(data []byte) (*psapi.PodSecurityConfiguration, error) {
	conf, err := load.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	return conf, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxConfigBytes)
	}
	return b, nil
}
