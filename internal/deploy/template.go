package deploy

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws-cloudformation/rain/cft/parse"
)

// Template is a parsed SAM or CloudFormation template.
//
// Short-form intrinsic functions are rewritten in their long form, so the
// tree holds only maps (map[string]any), slices ([]any) and scalars (string,
// int, float64, bool, nil): !Ref X becomes {"Ref": "X"}, !Sub s becomes
// {"Fn::Sub": s}, and !GetAtt R.A becomes {"Fn::GetAtt": ["R", "A"]}.
type Template struct {
	// Path is the file the template was read from.
	Path string
	// Doc is the whole template, keyed by section name.
	Doc map[string]any
}

// Resource is one entry of a template's Resources section.
type Resource struct {
	// ID is the resource's logical ID.
	ID string
	// Type is the resource type, such as AWS::S3::Bucket.
	Type string
	// Properties holds the resource's properties; it is nil when there are
	// none.
	Properties map[string]any
	// Metadata holds the resource's metadata; it is nil when there is none.
	Metadata map[string]any
}

// Errors LoadTemplate wraps when a template parses as YAML but is not a
// template.
var (
	// ErrNotTemplate means the document is not a mapping of sections.
	ErrNotTemplate = errors.New("deploy: document is not a mapping of template sections")
	// ErrNoResources means the template has no Resources section.
	ErrNoResources = errors.New("deploy: template has no Resources section")
	// ErrBadResource means a resource is not a mapping with a Type.
	ErrBadResource = errors.New("deploy: resource is not a mapping with a Type")
)

// LoadTemplate reads and parses the template at path. Besides I/O and YAML
// errors, it returns an error wrapping ErrNotTemplate, ErrNoResources or
// ErrBadResource when the document does not have a template's shape.
func LoadTemplate(path string) (*Template, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}

	t, err := ParseTemplate(src)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// ParseTemplate parses a template from its YAML or JSON source. It returns
// the same errors as LoadTemplate; the returned template's Path is empty.
func ParseTemplate(src []byte) (*Template, error) {
	parsed, err := parse.String(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}

	var doc map[string]any
	if err := parsed.Node.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotTemplate, err)
	}
	if doc == nil {
		return nil, ErrNotTemplate
	}

	resources, ok := doc["Resources"].(map[string]any)
	if !ok || len(resources) == 0 {
		return nil, ErrNoResources
	}
	for _, id := range sortedKeys(resources) {
		body, ok := resources[id].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s: %w", id, ErrBadResource)
		}
		if typ, ok := body["Type"].(string); !ok || typ == "" {
			return nil, fmt.Errorf("resource %s: %w", id, ErrBadResource)
		}
	}
	return &Template{Doc: doc}, nil
}

// Section returns the template section called name (Parameters,
// Conditions, Resources, Outputs ...), or nil when the template has no such
// section or it is not a mapping.
func (t *Template) Section(name string) map[string]any {
	m, _ := t.Doc[name].(map[string]any)
	return m
}

// Resource returns the resource with logical ID id.
func (t *Template) Resource(id string) (Resource, bool) {
	body, ok := t.Section("Resources")[id].(map[string]any)
	if !ok {
		return Resource{}, false
	}

	r := Resource{ID: id}
	r.Type, _ = body["Type"].(string)
	r.Properties, _ = body["Properties"].(map[string]any)
	r.Metadata, _ = body["Metadata"].(map[string]any)
	return r, true
}

// ResourcesOfType returns the resources of type typ, sorted by logical ID.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, id := range sortedKeys(t.Section("Resources")) {
		if r, _ := t.Resource(id); r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Lookup walks v along path: a string steps into a mapping by key, an int
// into a sequence by index. It reports false when a step is missing or does
// not fit the value's kind.
func Lookup(v any, path ...any) (any, bool) {
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || s < 0 || s >= len(l) {
				return nil, false
			}
			v = l[s]
		default:
			return nil, false
		}
	}
	return v, true
}

// Strings returns v as a list of strings: a string is a list of one, a
// sequence of strings is itself. It returns nil for anything else,
// including a sequence holding a non-string.
func Strings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// Ref returns the name in a {"Ref": name} value.
func Ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	name, ok := m["Ref"].(string)
	return name, ok
}

// Sub returns the template string of an {"Fn::Sub": ...} value, in either
// of its forms (a string, or a string and a mapping of variables).
func Sub(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	switch arg := m["Fn::Sub"].(type) {
	case string:
		return arg, true
	case []any:
		if len(arg) == 0 {
			return "", false
		}
		s, ok := arg[0].(string)
		return s, ok
	}
	return "", false
}

// GetAtt returns the resource and attribute of an {"Fn::GetAtt": [resource,
// attribute]} value.
func GetAtt(v any) (resource, attribute string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	args := Strings(m["Fn::GetAtt"])
	if len(args) != 2 {
		return "", "", false
	}
	return args[0], args[1], true
}

// SubVariables returns the variables a Fn::Sub template string names, in
// order of appearance: "${AWS::StackName}-x-${Bucket.Arn}" names
// AWS::StackName and Bucket.Arn. Escaped literals (${!Name}) are not
// variables.
func SubVariables(s string) []string {
	var out []string
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			return out
		}
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			return out
		}
		name := s[start+2 : start+end]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		s = s[start+end+1:]
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
