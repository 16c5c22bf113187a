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

// AdmissionConfiguration is a read --admission-control-config-file.
type AdmissionConfiguration struct {
	file string
	conf *admissionConfiguration // nil: no file, or a legacy one
}

// ReadAdmissionConfiguration reads an AdmissionConfiguration file as
// upstream's ReadAdmissionConfiguration (whichever plugins run): strictly
// decoded; a file of one of the two legacy unversioned formats
// (imagePolicy, podNodeSelectorPluginConfig) configures no plugin here.
// Empty file: no configuration.
func ReadAdmissionConfiguration(file string) (*AdmissionConfiguration, error) {
	if file == "" {
		return &AdmissionConfiguration{}, nil
	}
	data, err := readBounded(file)
	if err != nil {
		return nil, fmt.Errorf("unable to read admission control configuration from %q [%v]", file, err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("admission control configuration %q: %v", file, err)
	}
	var typeMeta struct{ APIVersion, Kind string }
	_ = json.Unmarshal(js, &typeMeta)
	if typeMeta.Kind != "AdmissionConfiguration" || !admissionConfigurationVersions[typeMeta.APIVersion] {
		var legacy map[string]any
		if json.Unmarshal(js, &legacy) == nil {
			_, image := legacy["imagePolicy"]
			_, selector := legacy["podNodeSelectorPluginConfig"]
			if image || selector {
				return &AdmissionConfiguration{file: file}, nil
			}
		}
		if typeMeta.Kind == "" || typeMeta.APIVersion == "" {
			return nil, fmt.Errorf("admission control configuration %q: Object 'Kind' or 'apiVersion' is missing", file)
		}
		return nil, fmt.Errorf("admission control configuration %q: no kind %q is registered for version %q", file, typeMeta.Kind, typeMeta.APIVersion)
	}
	conf := &admissionConfiguration{}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields() // upstream decodes strictly
	if err := dec.Decode(conf); err != nil {
		return nil, fmt.Errorf("admission control configuration %q: %v", file, err)
	}
	return &AdmissionConfiguration{file: file, conf: conf}, nil
}

// ConfigFor returns the configuration of the named plugin, nil when there
// is none, as upstream's ConfigFor: a nested configuration first, else
// the file at the plugin's path (relative to the configuration file's
// directory).
func (c *AdmissionConfiguration) ConfigFor(plugin string) ([]byte, error) {
	if c.conf == nil {
		return nil, nil
	}
	for _, p := range c.conf.Plugins {
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
			path = filepath.Join(filepath.Dir(c.file), path)
		}
		b, err := readBounded(path)
		if err != nil {
			return nil, fmt.Errorf("couldn't open admission plugin configuration %s: %v", path, err)
		}
		return b, nil
	}
	return nil, nil
}

// pluginConfig reads the file and returns the named plugin's
// configuration.
func pluginConfig(file, plugin string) ([]byte, error) {
	c, err := ReadAdmissionConfiguration(file)
	if err != nil {
		return nil, err
	}
	return c.ConfigFor(plugin)
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
