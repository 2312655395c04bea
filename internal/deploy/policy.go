package deploy

import (
	"errors"
	"fmt"
)

// Statement is one statement of an IAM policy document in the template.
type Statement struct {
	// Owner is the logical ID of the resource that holds the policy.
	Owner string
	// Sid is the statement's optional identifier.
	Sid string
	// Effect is Allow or Deny.
	Effect string
	// Principal is the statement's principal as written ("*", a mapping, or
	// nil in identity policies).
	Principal any
	// Actions lists the statement's actions, from Action or NotAction.
	Actions []string
	// NotAction reports that Actions came from NotAction.
	NotAction bool
	// Resources lists the statement's resources as written: strings or
	// intrinsic functions.
	Resources []any
	// Condition is the statement's condition block, nil when there is none.
	Condition map[string]any
}

// ErrOpaquePolicy means a policy cannot be read as statements: a managed
// policy name or ARN, or a SAM policy template, whose actions are defined
// outside the template.
var ErrOpaquePolicy = errors.New("deploy: policy is not an inline policy document")

// policyProperties names, for each resource type that holds policy
// documents, the property that holds them.
var policyProperties = map[string]string{
	"AWS::S3::BucketPolicy":   "PolicyDocument",
	"AWS::SQS::QueuePolicy":   "PolicyDocument",
	"AWS::SNS::TopicPolicy":   "PolicyDocument",
	"AWS::IAM::Policy":        "PolicyDocument",
	"AWS::IAM::ManagedPolicy": "PolicyDocument",
}

// Statements returns every statement of every policy document in the
// template: the Policies of serverless functions, the inline policies of IAM
// roles, and the documents of bucket, queue, topic and IAM policies, in
// order of logical ID. The roles' trust policies are not included.
//
// Policies that hide their statements (a managed policy, a SAM policy
// template) give an error wrapping ErrOpaquePolicy, so that a
// least-privilege check cannot pass over them unread.
func (t *Template) Statements() ([]Statement, error) {
	var out []Statement
	var errs []error
	for _, id := range sortedKeys(t.Section("Resources")) {
		r, _ := t.Resource(id)
		docs, err := policyDocuments(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", id, err))
		}
		for _, doc := range docs {
			stmts, err := statements(id, doc)
			if err != nil {
				errs = append(errs, fmt.Errorf("resource %s: %w", id, err))
			}
			out = append(out, stmts...)
		}
	}
	return out, errors.Join(errs...)
}

// policyDocuments returns the policy documents r holds.
func policyDocuments(r Resource) ([]any, error) {
	if prop, ok := policyProperties[r.Type]; ok {
		return []any{r.Properties[prop]}, nil
	}

	switch r.Type {
	case "AWS::Serverless::Function":
		return functionPolicies(r.Properties["Policies"])
	case "AWS::IAM::Role":
		if arns, ok := r.Properties["ManagedPolicyArns"]; ok && arns != nil {
			return nil, fmt.Errorf("ManagedPolicyArns: %w", ErrOpaquePolicy)
		}
		var docs []any
		policies, _ := r.Properties["Policies"].([]any)
		for _, p := range policies {
			doc, _ := Lookup(p, "PolicyDocument")
			docs = append(docs, doc)
		}
		return docs, nil
	}
	return nil, nil
}

// functionPolicies reads a serverless function's Policies property: a
// managed policy name, a policy document, or a list of either (or of SAM
// policy templates).
func functionPolicies(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}

	var docs []any
	for i, p := range list {
		if _, ok := Lookup(p, "Statement"); !ok {
			return nil, fmt.Errorf("Policies[%d]: %w", i, ErrOpaquePolicy)
		}
		docs = append(docs, p)
	}
	return docs, nil
}

// statements reads the statements of one policy document held by owner.
func statements(owner string, doc any) ([]Statement, error) {
	raw, ok := Lookup(doc, "Statement")
	if !ok {
		return nil, errors.New("policy document has no Statement")
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}

	out := make([]Statement, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return out, fmt.Errorf("statement %d is not a mapping", i)
		}
		s := Statement{Owner: owner, Principal: m["Principal"]}
		s.Sid, _ = m["Sid"].(string)
		s.Effect, _ = m["Effect"].(string)
		s.Condition, _ = m["Condition"].(map[string]any)
		s.Actions = Strings(m["Action"])
		if notAction, ok := m["NotAction"]; ok {
			s.Actions, s.NotAction = Strings(notAction), true
		}
		switch res := m["Resource"].(type) {
		case []any:
			s.Resources = res
		case nil:
		default:
			s.Resources = []any{res}
		}
		out = append(out, s)
	}
	return out, nil
}
