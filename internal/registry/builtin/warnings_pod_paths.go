package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Upstream's warningsForOverlappingVirtualPaths: the items of one config
// map, secret, downward API or projected volume that write to the same
// path, or to a path under another's.

// pathAndSource is a path a volume writes and, in a projected volume,
// the source that writes it.
type pathAndSource struct {
	path, source string
}

func (ps pathAndSource) String() string {
	if ps.source != "" {
		return fmt.Sprintf("%q (%s)", ps.path, ps.source)
	}
	return fmt.Sprintf("%q", ps.path)
}

func overlappingPathWarnings(volumes []corev1.Volume) []string {
	var w []string
	warn := func(name, desc, body string) { w = append(w, overlapWarning(name, desc, body)) }
	for _, v := range volumes {
		if v.ConfigMap != nil && v.ConfigMap.Items != nil {
			for _, ol := range mappingOverlaps(keyPaths(v.ConfigMap.Items, "")) {
				warn(v.Name, fmt.Sprintf("ConfigMap %q", v.ConfigMap.Name), ol)
			}
		}
		if v.Secret != nil && v.Secret.Items != nil {
			for _, ol := range mappingOverlaps(keyPaths(v.Secret.Items, "")) {
				warn(v.Name, fmt.Sprintf("Secret %q", v.Secret.SecretName), ol)
			}
		}
		if v.DownwardAPI != nil && v.DownwardAPI.Items != nil {
			for _, ol := range mappingOverlaps(downwardPaths(v.DownwardAPI.Items, "")) {
				warn(v.Name, "DownwardAPI", ol)
			}
		}
		if v.Projected != nil {
			w = append(w, projectedOverlaps(v.Name, v.Projected.Sources)...)
		}
	}
	return w
}

func overlapWarning(name, desc, body string) string {
	return fmt.Sprintf("volume %q (%s): overlapping paths: %s", name, desc, body)
}

// projectedOverlaps warns about the empty sources of a projected volume
// and about the paths of a source that overlap those of earlier sources.
func projectedOverlaps(name string, sources []corev1.VolumeProjection) []string {
	var w []string
	var all []pathAndSource
	for _, source := range sources {
		if source == (corev1.VolumeProjection{}) {
			w = append(w, fmt.Sprintf("volume %q (Projected) has no sources provided", name))
			continue
		}
		for _, ps := range projectionPaths(source) {
			ps.path = strings.TrimRight(ps.path, "/")
			for _, c := range overlaps(all, ps) {
				w = append(w, overlapWarning(name, "Projected", fmt.Sprintf("%s with %s", ps, c)))
			}
			all = append(all, ps)
		}
	}
	return w
}

// projectionPaths are the paths one projected source writes.
func projectionPaths(source corev1.VolumeProjection) []pathAndSource {
	switch {
	case source.ConfigMap != nil && source.ConfigMap.Items != nil:
		return keyPaths(source.ConfigMap.Items, fmt.Sprintf("ConfigMap %q", source.ConfigMap.Name))
	case source.Secret != nil && source.Secret.Items != nil:
		return keyPaths(source.Secret.Items, fmt.Sprintf("Secret %q", source.Secret.Name))
	case source.DownwardAPI != nil && source.DownwardAPI.Items != nil:
		return downwardPaths(source.DownwardAPI.Items, "DownwardAPI")
	case source.ServiceAccountToken != nil:
		return []pathAndSource{{source.ServiceAccountToken.Path, "ServiceAccountToken"}}
	case source.ClusterTrustBundle != nil:
		b := source.ClusterTrustBundle
		name := derefOr(b.Name, "")
		if b.Name == nil {
			name = derefOr(b.SignerName, "")
		}
		return []pathAndSource{{b.Path, fmt.Sprintf("ClusterTrustBundle %q", name)}}
	case source.PodCertificate != nil:
		var paths []pathAndSource
		for _, p := range []pathAndSource{
			{source.PodCertificate.CertificateChainPath, "PodCertificate chain"},
			{source.PodCertificate.KeyPath, "PodCertificate key"},
			{source.PodCertificate.CredentialBundlePath, "PodCertificate credential bundle"},
		} {
			if p.path != "" {
				paths = append(paths, p)
			}
		}
		return paths
	}
	return nil
}

func keyPaths(items []corev1.KeyToPath, source string) []pathAndSource {
	out := make([]pathAndSource, 0, len(items))
	for _, it := range items {
		out = append(out, pathAndSource{it.Path, source})
	}
	return out
}

func downwardPaths(items []corev1.DownwardAPIVolumeFile, source string) []pathAndSource {
	out := make([]pathAndSource, 0, len(items))
	for _, it := range items {
		out = append(out, pathAndSource{it.Path, source})
	}
	return out
}

// mappingOverlaps is upstream's checkVolumeMappingForOverlap.
func mappingOverlaps(paths []pathAndSource) []string {
	var w []string
	var all []pathAndSource
	for _, ps := range paths {
		ps.path = strings.TrimRight(ps.path, "/")
		for _, c := range overlaps(all, ps) {
			w = append(w, fmt.Sprintf("%s with %s", ps, c))
		}
		all = append(all, ps)
	}
	return w
}

// overlaps is upstream's checkForOverlap: the paths of haystack equal to
// needle's, under it or above it.
func overlaps(haystack []pathAndSource, needle pathAndSource) []pathAndSource {
	if needle.path == "" {
		return nil
	}
	var out []pathAndSource
	for _, item := range haystack {
		switch {
		case item.path == "":
			continue
		case item == needle,
			strings.HasPrefix(item.path+"/", needle.path+"/"),
			strings.HasPrefix(needle.path+"/", item.path+"/"):
			out = append(out, item)
		}
	}
	return out
}
