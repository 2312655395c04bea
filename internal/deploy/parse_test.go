package deploy_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/deploy"
)

func TestLoadTemplate_Errors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr error  // matched with errors.Is when set
		wantMsg string // else a part of the message
	}{
		{"NotYAML", "Resources: [unclosed\n", nil, "parse template"},
		{"Scalar", "just a string\n", deploy.ErrNotTemplate, ""},
		{"Empty", "", deploy.ErrNotTemplate, ""},
		{"NoResources", "Parameters:\n  A:\n    Type: String\n", deploy.ErrNoResources, ""},
		{"ResourceNotMapping", "Resources:\n  Bucket: yes\n", deploy.ErrBadResource, ""},
		{"ResourceWithoutType", "Resources:\n  Bucket:\n    Properties: {}\n", deploy.ErrBadResource, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err := deploy.LoadTemplate(path)
			switch {
			case err == nil:
				t.Fatalf("LoadTemplate(%q) error = nil; want one", tc.src)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("LoadTemplate(%q) error = %v; want %v", tc.src, err, tc.wantErr)
			case tc.wantErr == nil && !strings.Contains(err.Error(), tc.wantMsg):
				t.Errorf("LoadTemplate(%q) error = %v; want it to mention %q", tc.src, err, tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "load template "+path+": ") {
				t.Errorf("LoadTemplate error = %q; want it to start with the path", err)
			}
		})
	}

	t.Run("Missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.yaml")
		if _, err := deploy.LoadTemplate(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadTemplate(%q) error = %v; want fs.ErrNotExist", path, err)
		}
	})
}

const shortTags = `
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-b"
      Tags:
        - Key: topic
          Value: !Ref Topic
        - Key: arn
          Value: !GetAtt Topic.TopicName
        - Key: listed
          Value: !Sub ["${X}-y", {X: !Ref AWS::Region}]
        - Key: version
          Value: 2012-10-17
  Topic:
    Type: AWS::SNS::Topic
`

func TestParseTemplate_ShortTags(t *testing.T) {
	tmpl, err := deploy.ParseTemplate([]byte(shortTags))
	if err != nil {
		t.Fatalf("ParseTemplate error: %v", err)
	}
	r, ok := tmpl.Resource("Bucket")
	if !ok {
		t.Fatal(`Resource("Bucket") not found`)
	}

	if got, ok := deploy.Sub(r.Properties["BucketName"]); !ok || got != "${AWS::StackName}-b" {
		t.Errorf("Sub(BucketName) = %q, %v; want %q, true", got, ok, "${AWS::StackName}-b")
	}
	tag := func(i int) any {
		v, _ := deploy.Lookup(r.Properties, "Tags", i, "Value")
		return v
	}
	if got, ok := deploy.Ref(tag(0)); !ok || got != "Topic" {
		t.Errorf("Ref(tag 0) = %q, %v; want Topic, true", got, ok)
	}
	if res, attr, ok := deploy.GetAtt(tag(1)); !ok || res != "Topic" || attr != "TopicName" {
		t.Errorf("GetAtt(tag 1) = %q, %q, %v; want Topic, TopicName, true", res, attr, ok)
	}
	if got, ok := deploy.Sub(tag(2)); !ok || got != "${X}-y" {
		t.Errorf("Sub(tag 2) = %q, %v; want %q, true", got, ok, "${X}-y")
	}
	// A version date stays a string, as CloudFormation reads it.
	if got := tag(3); got != "2012-10-17" {
		t.Errorf("tag 3 = %#v; want \"2012-10-17\"", got)
	}

	if got := tmpl.ResourcesOfType("AWS::SNS::Topic"); len(got) != 1 || got[0].ID != "Topic" {
		t.Errorf("ResourcesOfType(AWS::SNS::Topic) = %v; want [Topic]", got)
	}
}

func TestSubVariables(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"None", "plain", nil},
		{"Pseudo", "${AWS::StackName}-uploads-${AWS::AccountId}", []string{"AWS::StackName", "AWS::AccountId"}},
		{"Attribute", "${Queue.Arn}", []string{"Queue.Arn"}},
		{"EscapedLiteral", "${!Literal}-${Name}", []string{"Name"}},
		{"Unclosed", "${Name", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deploy.SubVariables(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("SubVariables(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

const badRefs = `
Parameters:
  Email:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      Environment:
        Variables:
          A: !Ref Email
          B: !Ref Emial
          C: !Sub "${AWS::Region}-${Missing}-${!Literal}-${Local}"
          D: !Sub ["${Local}", {Local: !Ref Email}]
          E: !GetAtt Nowhere.Arn
          F: !GetAtt FnRole.Arn
          G: !Sub "${Ghost.Arn}"
          H: !If [IsStaging, a, b]
Outputs:
  Out:
    Value: !Ref Fn
`

func TestTemplate_UnresolvedReferences(t *testing.T) {
	tmpl, err := deploy.ParseTemplate([]byte(badRefs))
	if err != nil {
		t.Fatalf("ParseTemplate error: %v", err)
	}

	got := tmpl.UnresolvedReferences()
	vars := "Resources.Fn.Properties.Environment.Variables"
	want := []string{
		"Conditions.IsProd.Fn::Equals[0]: Ref Stage names no parameter or resource",
		vars + ".B: Ref Emial names no parameter or resource",
		vars + ".C: Fn::Sub ${Local} names no parameter or resource",
		vars + ".C: Fn::Sub ${Missing} names no parameter or resource",
		vars + ".E: Fn::GetAtt Nowhere.Arn names no resource",
		vars + ".G: Fn::Sub ${Ghost.Arn} names no resource",
		vars + ".H: Fn::If IsStaging names no condition",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnresolvedReferences() mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_StatementsOpaque(t *testing.T) {
	tests := []struct {
		name     string
		policies string
	}{
		{"ManagedPolicyName", "- AWSLambdaBasicExecutionRole"},
		{"PolicyTemplate", "- S3CrudPolicy:\n          BucketName: b"},
		{"SinglePolicyName", "AmazonS3FullAccess"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        " + tc.policies + "\n"
			tmpl, err := deploy.ParseTemplate([]byte(src))
			if err != nil {
				t.Fatalf("ParseTemplate error: %v", err)
			}

			if _, err := tmpl.Statements(); !errors.Is(err, deploy.ErrOpaquePolicy) {
				t.Errorf("Statements() error = %v; want ErrOpaquePolicy", err)
			}
		})
	}
}

func TestTemplate_StatementsForms(t *testing.T) {
	src := `
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              Effect: Allow
              NotAction: iam:*
              Resource: "*"
`
	tmpl, err := deploy.ParseTemplate([]byte(src))
	if err != nil {
		t.Fatalf("ParseTemplate error: %v", err)
	}

	got, err := tmpl.Statements()
	if err != nil {
		t.Fatalf("Statements() error: %v", err)
	}
	want := []deploy.Statement{{
		Owner:     "Role",
		Effect:    "Allow",
		Actions:   []string{"iam:*"},
		NotAction: true,
		Resources: []any{"*"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Statements() mismatch (-want +got):\n%s", diff)
	}
}

func TestLookup(t *testing.T) {
	tree := map[string]any{"a": []any{map[string]any{"b": "leaf"}}}
	tests := []struct {
		name   string
		path   []any
		want   any
		wantOK bool
	}{
		{"Leaf", []any{"a", 0, "b"}, "leaf", true},
		{"Empty", nil, tree, true},
		{"MissingKey", []any{"x"}, nil, false},
		{"IndexOutOfRange", []any{"a", 1}, nil, false},
		{"KeyIntoSequence", []any{"a", "b"}, nil, false},
		{"IndexIntoScalar", []any{"a", 0, "b", 0}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := deploy.Lookup(tree, tc.path...)
			if ok != tc.wantOK || !cmp.Equal(got, tc.want) {
				t.Errorf("Lookup(tree, %v) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []string
	}{
		{"String", "s3:GetObject", []string{"s3:GetObject"}},
		{"List", []any{"a", "b"}, []string{"a", "b"}},
		{"ListWithMap", []any{"a", map[string]any{}}, nil},
		{"Number", 3, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deploy.Strings(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Strings(%v) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}
