package deploy

import (
	"fmt"
	"slices"
	"strings"
)

// pseudoParameters are the names CloudFormation defines in every template.
var pseudoParameters = []string{
	"AWS::AccountId",
	"AWS::NotificationARNs",
	"AWS::NoValue",
	"AWS::Partition",
	"AWS::Region",
	"AWS::StackId",
	"AWS::StackName",
	"AWS::URLSuffix",
}

// UnresolvedReferences lists the references in the template's resources,
// conditions and outputs that name nothing declared: a Ref, a Fn::Sub
// variable or a Fn::GetAtt whose target is not a parameter, a resource or a
// pseudo parameter, and a Fn::If or Condition naming no condition. SAM's
// implicit execution role (<FunctionID>Role, for a serverless function
// without a Role) counts as declared. Each entry reads "path: what", sorted;
// the list is empty when every reference resolves.
func (t *Template) UnresolvedReferences() []string {
	w := refWalker{
		names:      map[string]bool{},
		resources:  map[string]bool{},
		conditions: t.Section("Conditions"),
	}
	for _, p := range pseudoParameters {
		w.names[p] = true
	}
	for name := range t.Section("Parameters") {
		w.names[name] = true
	}
	for id := range t.Section("Resources") {
		w.names[id], w.resources[id] = true, true
		r, _ := t.Resource(id)
		if _, hasRole := r.Properties["Role"]; r.Type == "AWS::Serverless::Function" && !hasRole {
			w.names[id+"Role"], w.resources[id+"Role"] = true, true
		}
	}

	for _, section := range []string{"Conditions", "Resources", "Outputs"} {
		w.walk(section, t.Doc[section])
	}
	slices.Sort(w.problems)
	return w.problems
}

// refWalker collects the unresolved references of a template tree.
type refWalker struct {
	names      map[string]bool
	resources  map[string]bool
	conditions map[string]any
	problems   []string
}

func (w *refWalker) walk(path string, v any) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			w.walk(fmt.Sprintf("%s[%d]", path, i), e)
		}
	case map[string]any:
		w.check(path, v)
		for _, k := range sortedKeys(v) {
			w.walk(path+"."+k, v[k])
		}
	}
}

// check looks at one mapping for the intrinsic functions that name things.
func (w *refWalker) check(path string, m map[string]any) {
	if name, ok := Ref(m); ok && !w.names[name] {
		w.problemf(path, "Ref %s names no parameter or resource", name)
	}
	if res, attr, ok := GetAtt(m); ok && !w.resources[res] {
		w.problemf(path, "Fn::GetAtt %s.%s names no resource", res, attr)
	}
	if s, ok := Sub(m); ok {
		w.checkSub(path, s, m["Fn::Sub"])
	}
	if args, ok := m["Fn::If"].([]any); ok && len(args) > 0 {
		w.checkCondition(path, "Fn::If", args[0])
	}
	// A resource's Condition, or a condition used inside Fn::And and the
	// like, is a name; an IAM statement's Condition is a mapping and is
	// skipped by checkCondition.
	if cond, ok := m["Condition"]; ok {
		w.checkCondition(path, "Condition", cond)
	}
}

func (w *refWalker) checkSub(path, s string, arg any) {
	local := map[string]any{}
	if args, ok := arg.([]any); ok && len(args) == 2 {
		local, _ = args[1].(map[string]any)
	}
	for _, name := range SubVariables(s) {
		if _, ok := local[name]; ok {
			continue
		}
		target, _, isAttr := strings.Cut(name, ".")
		switch {
		case isAttr && !w.resources[target]:
			w.problemf(path, "Fn::Sub ${%s} names no resource", name)
		case !isAttr && !w.names[name]:
			w.problemf(path, "Fn::Sub ${%s} names no parameter or resource", name)
		}
	}
}

func (w *refWalker) checkCondition(path, fn string, v any) {
	name, ok := v.(string)
	if !ok {
		return
	}
	if _, declared := w.conditions[name]; !declared {
		w.problemf(path, "%s %s names no condition", fn, name)
	}
}

func (w *refWalker) problemf(path, format string, args ...any) {
	w.problems = append(w.problems, path+": "+fmt.Sprintf(format, args...))
}
