// chart-render renders the modelgate Helm chart offline, for `make test` on
// machines without Helm. It supports exactly what the chart uses: Go
// text/template with the sprig functions, plus Helm's include, required and
// toYaml and tpl; .Values (values.yaml deep-merged with --values files),
// .Release (Name, Namespace, Service), .Chart (Name, Version, AppVersion) and
// .Files.Get (a file under the chart directory, as Helm's; "" when absent).
// Real `helm lint` / `helm template` remain the reference where Helm exists.
//
//	chart-render --chart DIR [--values FILE]... [--release NAME] [--namespace NS]
//	             [--values-json OUT] [--notes OUT] > rendered.yaml
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func readYAML(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
}

// merge overlays src onto dst: maps merge key by key, anything else replaces.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// chartFiles is Helm's .Files, reduced to Get: the chart's own files (never
// templates/), read on demand. Paths outside the chart read as "".
type chartFiles struct{ root string }

func (f chartFiles) Get(name string) string {
	clean := filepath.Clean(name)
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(f.root, clean))
	if err != nil {
		return ""
	}
	return string(data)
}

func main() {
	chart := flag.String("chart", "", "chart directory")
	release := flag.String("release", "modelgate", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	valuesJSON := flag.String("values-json", "", "write the merged values here as JSON")
	notesOut := flag.String("notes", "", "write the rendered NOTES.txt here")
	var valueFiles multiFlag
	flag.Var(&valueFiles, "values", "values file to merge (repeatable)")
	flag.Parse()
	if err := run(*chart, *release, *namespace, valueFiles, *valuesJSON, *notesOut); err != nil {
		fmt.Fprintln(os.Stderr, "chart-render:", err)
		os.Exit(1)
	}
}

func run(chart, release, namespace string, valueFiles []string, valuesJSON, notesOut string) error {
	meta, err := readYAML(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYAML(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		override, err := readYAML(f)
		if err != nil {
			return err
		}
		values = merge(values, override)
	}
	if valuesJSON != "" {
		data, _ := json.MarshalIndent(values, "", "  ")
		if err := os.WriteFile(valuesJSON, data, 0o644); err != nil {
			return err
		}
	}
	top := map[string]interface{}{
		"Values":  values,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm"},
		"Chart": map[string]interface{}{
			"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"],
		},
		"Files": chartFiles{root: chart},
	}

	tpl := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = func(v interface{}) (string, error) {
		data, err := yaml.Marshal(v)
		return strings.TrimSuffix(string(data), "\n"), err
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := tpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	// Helm's tpl: renders a string (e.g. a file from .Files.Get) as a template
	// with the given data; its own template set, sharing the functions.
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := template.New("tpl").Option("missingkey=zero").Funcs(funcs).Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	tpl.Funcs(funcs)

	files, err := filepath.Glob(filepath.Join(chart, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tpl.New(filepath.Base(f)).Parse(string(data)); err != nil {
			return err
		}
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := tpl.ExecuteTemplate(&buf, name, top); err != nil {
			return err
		}
		if name == "NOTES.txt" {
			if notesOut != "" {
				if err := os.WriteFile(notesOut, buf.Bytes(), 0o644); err != nil {
					return err
				}
			}
			continue
		}
		if strings.TrimSpace(buf.String()) == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s/templates/%s\n%s\n", meta["name"], name,
			strings.TrimSpace(buf.String()))
	}
	return nil
}
