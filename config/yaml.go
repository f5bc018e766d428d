package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlFile is a YAML file read the way dbt reads it, with PyYAML's
// safe_load: anchors and aliases, "<<" merge keys (explicit keys beat merged
// ones, earlier mappings in a merge list beat later ones) and duplicate keys,
// where the last one wins. yaml.v3 rejects duplicate keys when it decodes
// into Go values, so the file is kept as nodes and walked here.
type yamlFile struct {
	path string
	// root is the document's top node; nil for an empty document.
	root *yaml.Node
	// flat caches each mapping once flattened, so that aliases and merges
	// cost one walk per node however often they are referenced.
	flat map[*yaml.Node]*yamlMap
	// busy marks the mappings being flattened, to catch a merge that
	// includes itself.
	busy map[*yaml.Node]bool
}

// yamlMap is a flattened mapping: its keys in order, each with its value
// node (aliases followed) and the line of the key that won.
type yamlMap struct {
	// at is the line the mapping starts on.
	at    int
	keys  []string
	value map[string]*yaml.Node
	line  map[string]int
}

func (m *yamlMap) set(key string, v *yaml.Node, line int) {
	if _, ok := m.value[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.value[key] = v
	m.line[key] = line
}

// get returns the value of key, with aliases followed; nil when absent.
func (m *yamlMap) get(key string) *yaml.Node { return m.value[key] }

// maxYAMLSize bounds what readYAML reads: real profiles.yml and
// dbt_project.yml files are a few kilobytes.
const maxYAMLSize = 4 << 20

// readYAML reads and parses path, which must be a regular file (not a FIFO
// that would block, nor a device) of at most maxYAMLSize bytes.
func readYAML(path string) (*yamlFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %s: it is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxYAMLSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(data) > maxYAMLSize {
		return nil, fmt.Errorf("%s is larger than %d MiB: that is not a dbt configuration file", path, maxYAMLSize>>20)
	}
	return parseYAML(path, data)
}

// parseYAML parses data, which was read from path. Like safe_load it
// accepts one document only.
func parseYAML(path string, data []byte) (*yamlFile, error) {
	f := &yamlFile{path: path, flat: map[*yaml.Node]*yamlMap{}, busy: map[*yaml.Node]bool{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, f.syntaxError(err)
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return nil, f.errorAt(&more, "holds a second YAML document; dbt reads profiles.yml and dbt_project.yml as one document")
	case !errors.Is(err, io.EOF):
		return nil, f.syntaxError(err)
	}
	f.root = &doc
	if doc.Kind == yaml.DocumentNode {
		f.root = nil
		if len(doc.Content) > 0 {
			f.root = doc.Content[0]
		}
	}
	if f.root != nil && isNull(f.root) {
		f.root = nil
	}
	return f, nil
}

// syntaxError turns yaml.v3's "yaml: line 3: ..." into "path:3: ...".
func (f *yamlFile) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if line, text, ok := strings.Cut(rest, ": "); ok && line != "" && strings.Trim(line, "0123456789") == "" {
			return fmt.Errorf("%s:%s: %s", f.path, line, text)
		}
	}
	return fmt.Errorf("%s: %s", f.path, msg)
}

// errorAt is an error about node n, naming the file and the line.
func (f *yamlFile) errorAt(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", f.path, n.Line, fmt.Sprintf(format, args...))
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// mapping flattens the mapping n (aliases followed, merges applied). what
// names n in the error when it is not a mapping.
func (f *yamlFile) mapping(n *yaml.Node, what string) (*yamlMap, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, f.errorAt(orAt(n, f.root), "%s must be a mapping (key: value lines)", what)
	}
	if m, ok := f.flat[n]; ok {
		return m, nil
	}
	if f.busy[n] {
		return nil, f.errorAt(n, "%s merges itself (a << that refers back to its own anchor)", what)
	}
	f.busy[n] = true
	defer delete(f.busy, n)

	m := &yamlMap{at: n.Line, value: map[string]*yaml.Node{}, line: map[string]int{}}
	var explicit [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			explicit = append(explicit, [2]*yaml.Node{k, v})
			continue
		}
		// PyYAML applies the mappings of a merge list last to first, so
		// the earlier ones win; a later << key beats an earlier one.
		var sources []*yaml.Node
		switch dv := deref(v); {
		case dv != nil && dv.Kind == yaml.MappingNode:
			sources = []*yaml.Node{dv}
		case dv != nil && dv.Kind == yaml.SequenceNode:
			for j := len(dv.Content) - 1; j >= 0; j-- {
				sources = append(sources, dv.Content[j])
			}
		default:
			return nil, f.errorAt(k, "a merge key (<<) needs a mapping or a list of mappings, such as <<: *defaults")
		}
		for _, src := range sources {
			if ds := deref(src); ds == nil || ds.Kind != yaml.MappingNode {
				return nil, f.errorAt(orAt(ds, k), "a merge key (<<) needs a mapping or a list of mappings, such as <<: *defaults")
			}
			sm, err := f.mapping(src, what)
			if err != nil {
				return nil, err
			}
			for _, key := range sm.keys {
				m.set(key, sm.value[key], sm.line[key])
			}
		}
	}
	for _, kv := range explicit {
		k := deref(kv[0])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, f.errorAt(kv[0], "a key must be a plain value, not a list or a mapping")
		}
		m.set(k.Value, deref(kv[1]), kv[0].Line)
	}
	f.flat[n] = m
	return m, nil
}

func orAt(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	if fallback != nil {
		return fallback
	}
	return &yaml.Node{Line: 1}
}

// scalar returns the text of a scalar node; ok is false for null or absent.
// Numbers and booleans come back as written: dbtdbx reads only string
// fields, and YAML 1.1 (PyYAML) and 1.2 (yaml.v3) disagree on what looks
// like a number, so the text is the one thing both agree on. A list or a
// mapping is an error, which the caller places.
func scalar(n *yaml.Node) (text string, ok bool, err error) {
	n = deref(n)
	if isNull(n) {
		return "", false, nil
	}
	if n.Kind != yaml.ScalarNode {
		err = errors.New("must be a single value, not a list or a mapping")
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle != 0 {
			err = errors.New(`must be a single value, not a mapping: a value that starts with {{ must be quoted, as in "{{ env_var('X') }}"`)
		}
		return "", false, err
	}
	return n.Value, true, nil
}
