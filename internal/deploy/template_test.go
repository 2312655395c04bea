package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flatguard/flatguard/internal/deploy"
)

// templatePath is the SAM template at the repository root.
const templatePath = "../../template.yaml"

// bucketName is the !Sub expression that names the upload bucket wherever
// the function side refers to it (see the template's comment on circular
// dependencies).
const bucketName = "${AWS::StackName}-uploads-${AWS::AccountId}"

func loadTemplate(t *testing.T) *deploy.Template {
	t.Helper()
	tmpl, err := deploy.LoadTemplate(templatePath)
	if err != nil {
		t.Fatalf("LoadTemplate(%q) error: %v", templatePath, err)
	}
	return tmpl
}

func mustResource(t *testing.T, tmpl *deploy.Template, id, typ string) deploy.Resource {
	t.Helper()
	r, ok := tmpl.Resource(id)
	if !ok {
		t.Fatalf("Resource(%q) not found", id)
	}
	if r.Type != typ {
		t.Fatalf("Resource(%q).Type = %q; want %q", id, r.Type, typ)
	}
	return r
}

// lookup is deploy.Lookup that fails the test when the path is missing.
func lookup(t *testing.T, v any, path ...any) any {
	t.Helper()
	got, ok := deploy.Lookup(v, path...)
	if !ok {
		t.Fatalf("Lookup(%v) not found", path)
	}
	return got
}

// Intrinsic-function values as the parser gives them.
func ref(name string) any         { return map[string]any{"Ref": name} }
func sub(s string) any            { return map[string]any{"Fn::Sub": s} }
func getAtt(res, attr string) any { return map[string]any{"Fn::GetAtt": []any{res, attr}} }

func TestTemplate_Transform(t *testing.T) {
	tmpl := loadTemplate(t)

	if got, want := tmpl.Doc["Transform"], "AWS::Serverless-2016-10-31"; got != want {
		t.Errorf("Transform = %v; want %q", got, want)
	}
}

func TestTemplate_ReferencesResolve(t *testing.T) {
	tmpl := loadTemplate(t)

	if got := tmpl.UnresolvedReferences(); len(got) != 0 {
		t.Errorf("UnresolvedReferences() = %q; want none", got)
	}
}

func TestTemplate_Function(t *testing.T) {
	tmpl := loadTemplate(t)
	fn := mustResource(t, tmpl, "ValidateFunction", "AWS::Serverless::Function")

	tests := []struct {
		name string
		path []any
		want any
	}{
		{"Runtime", []any{"Runtime"}, "provided.al2023"},
		{"Handler", []any{"Handler"}, "bootstrap"},
		{"Architectures", []any{"Architectures"}, []any{"arm64"}},
		{"CodeUri", []any{"CodeUri"}, "./"},
		{"Timeout", []any{"Timeout"}, 900},
		{"MemorySize", []any{"MemorySize"}, 512},
		{"EphemeralStorage", []any{"EphemeralStorage", "Size"}, 2048},
		{"RecursiveLoop", []any{"RecursiveLoop"}, "Terminate"},
		{"LogFormat", []any{"LoggingConfig", "LogFormat"}, "JSON"},
		{"ApplicationLogLevel", []any{"LoggingConfig", "ApplicationLogLevel"}, "INFO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lookup(t, fn.Properties, tc.path...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ValidateFunction.%v mismatch (-want +got):\n%s", tc.path, diff)
			}
		})
	}

	// sam build runs the Makefile's build-ValidateFunction target.
	if got := fn.Metadata["BuildMethod"]; got != "makefile" {
		t.Errorf("ValidateFunction.Metadata.BuildMethod = %v; want makefile", got)
	}
}

func TestTemplate_ReservedConcurrency(t *testing.T) {
	tmpl := loadTemplate(t)
	fn := mustResource(t, tmpl, "ValidateFunction", "AWS::Serverless::Function")

	// 0 means no reservation: the property is then left out.
	got := lookup(t, fn.Properties, "ReservedConcurrentExecutions")
	want := map[string]any{"Fn::If": []any{
		"HasReservedConcurrency", ref("ReservedConcurrency"), ref("AWS::NoValue"),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReservedConcurrentExecutions mismatch (-want +got):\n%s", diff)
	}

	cond := lookup(t, tmpl.Section("Conditions"), "HasReservedConcurrency")
	wantCond := map[string]any{"Fn::Not": []any{
		map[string]any{"Fn::Equals": []any{ref("ReservedConcurrency"), 0}},
	}}
	if diff := cmp.Diff(wantCond, cond); diff != "" {
		t.Errorf("Conditions.HasReservedConcurrency mismatch (-want +got):\n%s", diff)
	}

	if got := lookup(t, tmpl.Section("Parameters"), "ReservedConcurrency", "Default"); got != 10 {
		t.Errorf("Parameters.ReservedConcurrency.Default = %v; want 10", got)
	}
}

func TestTemplate_S3Trigger(t *testing.T) {
	tmpl := loadTemplate(t)
	fn := mustResource(t, tmpl, "ValidateFunction", "AWS::Serverless::Function")

	events, _ := fn.Properties["Events"].(map[string]any)
	if len(events) != 1 {
		t.Fatalf("ValidateFunction.Events has %d entries; want 1", len(events))
	}

	// No filter: the handler answers every key and ignores its own reports.
	got := lookup(t, events, "Upload")
	want := map[string]any{
		"Type": "S3",
		"Properties": map[string]any{
			"Bucket": ref("UploadBucket"),
			"Events": "s3:ObjectCreated:*",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValidateFunction.Events.Upload mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_UploadBucket(t *testing.T) {
	tmpl := loadTemplate(t)
	bucket := mustResource(t, tmpl, "UploadBucket", "AWS::S3::Bucket")

	tests := []struct {
		name string
		path []any
		want any
	}{
		{"BucketName", []any{"BucketName"}, sub(bucketName)},
		{"Versioning", []any{"VersioningConfiguration", "Status"}, "Enabled"},
		{"PublicAccessBlock", []any{"PublicAccessBlockConfiguration"}, map[string]any{
			"BlockPublicAcls":       true,
			"BlockPublicPolicy":     true,
			"IgnorePublicAcls":      true,
			"RestrictPublicBuckets": true,
		}},
		{"Encryption", []any{"BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"}, "AES256"},
		{"ACLsDisabled", []any{"OwnershipControls", "Rules", 0, "ObjectOwnership"}, "BucketOwnerEnforced"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lookup(t, bucket.Properties, tc.path...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("UploadBucket.%v mismatch (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

func TestTemplate_Environment(t *testing.T) {
	tmpl := loadTemplate(t)
	fn := mustResource(t, tmpl, "ValidateFunction", "AWS::Serverless::Function")
	env, _ := lookup(t, fn.Properties, "Environment", "Variables").(map[string]any)
	params := tmpl.Section("Parameters")

	if got, want := env["TOPIC_ARN"], ref("Topic"); !cmp.Equal(got, want) {
		t.Errorf("TOPIC_ARN = %v; want %v", got, want)
	}
	if got, want := env["UPLOAD_BUCKET"], sub(bucketName); !cmp.Equal(got, want) {
		t.Errorf("UPLOAD_BUCKET = %v; want %v", got, want)
	}

	// Each tuning variable comes from a parameter whose default is the
	// product default in CONTRACT.md.
	tuning := []struct {
		variable    string
		parameter   string
		wantDefault any
	}{
		{"CONCURRENCY", "Concurrency", 128},
		{"PER_HOST_CONCURRENCY", "PerHostConcurrency", 16},
		{"REQUEST_TIMEOUT", "RequestTimeout", "15s"},
		{"MAX_FILE_BYTES", "MaxFileBytes", 536870912},
		{"MAX_FINDINGS", "MaxFindings", 10000},
		{"USER_AGENT", "UserAgent", ""},
	}
	for _, tc := range tuning {
		t.Run(tc.variable, func(t *testing.T) {
			if got := env[tc.variable]; !cmp.Equal(got, ref(tc.parameter)) {
				t.Errorf("%s = %v; want %v", tc.variable, got, ref(tc.parameter))
			}
			if got := lookup(t, params, tc.parameter, "Default"); got != tc.wantDefault {
				t.Errorf("Parameters.%s.Default = %#v; want %#v", tc.parameter, got, tc.wantDefault)
			}
		})
	}

	// Loopback and private networks stay blocked in the deployed function.
	for _, name := range []string{"ALLOW_LOOPBACK", "ALLOW_PRIVATE_NETWORKS"} {
		if v, ok := env[name]; ok {
			t.Errorf("%s = %v; want it unset", name, v)
		}
	}
}

func TestTemplate_FailureEmailParameter(t *testing.T) {
	tmpl := loadTemplate(t)

	p, ok := tmpl.Section("Parameters")["FailureEmail"].(map[string]any)
	if !ok {
		t.Fatal("Parameters.FailureEmail not found")
	}
	if got := p["Type"]; got != "String" {
		t.Errorf("Parameters.FailureEmail.Type = %v; want String", got)
	}
	if d, ok := p["Default"]; ok {
		t.Errorf("Parameters.FailureEmail.Default = %v; want none (the deployer must give one)", d)
	}
}

// allowedResource reports whether an Allow statement's resource is one the
// stack owns: the upload bucket (named by its !Sub expression, or by Ref in
// the bucket's own policy), the verdict topic, or one of the queues.
func allowedResource(res any) bool {
	if s, ok := deploy.Sub(res); ok {
		for _, name := range []string{bucketName, "${UploadBucket}"} {
			arn := "arn:${AWS::Partition}:s3:::" + name
			if s == arn || s == arn+"/*" {
				return true
			}
		}
		return false
	}
	if name, ok := deploy.Ref(res); ok {
		return name == "Topic"
	}
	if r, attr, ok := deploy.GetAtt(res); ok {
		return (r == "FailureQueue" || r == "PassQueue") && attr == "Arn"
	}
	return false
}

func TestTemplate_LeastPrivilege(t *testing.T) {
	tmpl := loadTemplate(t)

	stmts, err := tmpl.Statements()
	if err != nil {
		t.Fatalf("Statements() error: %v", err)
	}

	// Every Allow names its actions and scopes its resources. A Deny may use
	// wildcards: it only takes rights away.
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		if s.NotAction {
			t.Errorf("%s/%s: NotAction in an Allow statement", s.Owner, s.Sid)
		}
		if len(s.Actions) == 0 {
			t.Errorf("%s/%s: no actions", s.Owner, s.Sid)
		}
		for _, a := range s.Actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s/%s: action %q has a wildcard", s.Owner, s.Sid, a)
			}
		}
		if len(s.Resources) == 0 {
			t.Errorf("%s/%s: no resources", s.Owner, s.Sid)
		}
		for _, r := range s.Resources {
			if !allowedResource(r) {
				t.Errorf("%s/%s: resource %v is not the upload bucket, the topic or a queue", s.Owner, s.Sid, r)
			}
		}
	}

	// The function's grants, exactly: adding one is a reviewed change.
	got := map[string][]any{}
	for _, s := range stmts {
		if s.Owner == "ValidateFunction" && s.Effect == "Allow" {
			for _, a := range s.Actions {
				got[a] = append(got[a], s.Resources...)
			}
		}
	}
	objects := sub("arn:${AWS::Partition}:s3:::" + bucketName + "/*")
	want := map[string][]any{
		"s3:GetObject":               {objects},
		"s3:GetObjectVersion":        {objects},
		"s3:GetObjectTagging":        {objects},
		"s3:GetObjectVersionTagging": {objects},
		"s3:PutObject":               {objects},
		"s3:PutObjectTagging":        {objects},
		"s3:PutObjectVersionTagging": {objects},
		"s3:ListBucket":              {sub("arn:${AWS::Partition}:s3:::" + bucketName)},
		"sns:Publish":                {ref("Topic")},
		"sqs:SendMessage":            {getAtt("FailureQueue", "Arn")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValidateFunction grants mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_BucketPolicy(t *testing.T) {
	tmpl := loadTemplate(t)
	policy := mustResource(t, tmpl, "UploadBucketPolicy", "AWS::S3::BucketPolicy")
	if got := policy.Properties["Bucket"]; !cmp.Equal(got, ref("UploadBucket")) {
		t.Errorf("UploadBucketPolicy.Bucket = %v; want %v", got, ref("UploadBucket"))
	}

	stmts, err := tmpl.Statements()
	if err != nil {
		t.Fatalf("Statements() error: %v", err)
	}
	bySid := map[string]deploy.Statement{}
	for _, s := range stmts {
		if s.Owner == "UploadBucketPolicy" {
			bySid[s.Sid] = s
		}
	}

	notTheRole := map[string]any{"aws:PrincipalArn": getAtt("ValidateFunctionRole", "Arn")}
	objects := sub("arn:${AWS::Partition}:s3:::${UploadBucket}/*")
	want := map[string]deploy.Statement{
		"DenyReportWritesExceptFunction": {
			Owner:     "UploadBucketPolicy",
			Sid:       "DenyReportWritesExceptFunction",
			Effect:    "Deny",
			Principal: "*",
			Actions:   []string{"s3:PutObject"},
			Resources: []any{
				sub("arn:${AWS::Partition}:s3:::${UploadBucket}/*.report.json"),
				sub("arn:${AWS::Partition}:s3:::${UploadBucket}/*.report.html"),
			},
			Condition: map[string]any{"ArnNotEquals": notTheRole},
		},
		"DenyVerdictTagExceptFunction": {
			Owner:     "UploadBucketPolicy",
			Sid:       "DenyVerdictTagExceptFunction",
			Effect:    "Deny",
			Principal: "*",
			Actions:   []string{"s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
			Resources: []any{objects},
			Condition: map[string]any{
				"ForAnyValue:StringEquals": map[string]any{"s3:RequestObjectTagKeys": "flatguard-status"},
				"ArnNotEquals":             notTheRole,
			},
		},
		"DenyInsecureTransport": {
			Owner:     "UploadBucketPolicy",
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: "*",
			Actions:   []string{"s3:*"},
			Resources: []any{sub("arn:${AWS::Partition}:s3:::${UploadBucket}"), objects},
			Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		},
	}
	if diff := cmp.Diff(want, bySid); diff != "" {
		t.Errorf("UploadBucketPolicy statements mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_EventInvokeConfig(t *testing.T) {
	tmpl := loadTemplate(t)
	fn := mustResource(t, tmpl, "ValidateFunction", "AWS::Serverless::Function")
	mustResource(t, tmpl, "FailureQueue", "AWS::SQS::Queue")

	tests := []struct {
		name string
		path []any
		want any
	}{
		{"MaximumRetryAttempts", []any{"MaximumRetryAttempts"}, 2},
		{"OnFailure", []any{"DestinationConfig", "OnFailure"}, map[string]any{
			"Type":        "SQS",
			"Destination": getAtt("FailureQueue", "Arn"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lookup(t, fn.Properties, append([]any{"EventInvokeConfig"}, tc.path...)...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EventInvokeConfig.%v mismatch (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

func TestTemplate_Notifications(t *testing.T) {
	tmpl := loadTemplate(t)
	topic := mustResource(t, tmpl, "Topic", "AWS::SNS::Topic")
	if fifo, ok := topic.Properties["FifoTopic"]; ok && fifo != false {
		t.Errorf("Topic.FifoTopic = %v; want a standard topic (FIFO topics cannot email)", fifo)
	}

	tests := []struct {
		id   string
		want map[string]any
	}{
		{"FailureEmailSubscription", map[string]any{
			"TopicArn":          ref("Topic"),
			"Protocol":          "email",
			"Endpoint":          ref("FailureEmail"),
			"FilterPolicyScope": "MessageAttributes",
			"FilterPolicy":      map[string]any{"status": []any{"fail", "error"}},
		}},
		{"PassSubscription", map[string]any{
			"TopicArn":           ref("Topic"),
			"Protocol":           "sqs",
			"Endpoint":           getAtt("PassQueue", "Arn"),
			"RawMessageDelivery": true,
			"FilterPolicyScope":  "MessageAttributes",
			"FilterPolicy":       map[string]any{"status": []any{"pass"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			s := mustResource(t, tmpl, tc.id, "AWS::SNS::Subscription")
			if diff := cmp.Diff(tc.want, s.Properties); diff != "" {
				t.Errorf("%s.Properties mismatch (-want +got):\n%s", tc.id, diff)
			}
		})
	}

	// Only the two routed subscriptions listen to the verdict topic.
	var onTopic []string
	for _, s := range tmpl.ResourcesOfType("AWS::SNS::Subscription") {
		if cmp.Equal(s.Properties["TopicArn"], ref("Topic")) {
			onTopic = append(onTopic, s.ID)
		}
	}
	if want := []string{"FailureEmailSubscription", "PassSubscription"}; !slices.Equal(onTopic, want) {
		t.Errorf("subscriptions on Topic = %q; want %q", onTopic, want)
	}

	// The topic may deliver to the pass queue, and nothing else may.
	qp := mustResource(t, tmpl, "PassQueuePolicy", "AWS::SQS::QueuePolicy")
	if got, want := qp.Properties["Queues"], []any{ref("PassQueue")}; !cmp.Equal(got, want) {
		t.Errorf("PassQueuePolicy.Queues = %v; want %v", got, want)
	}
	stmt := lookup(t, qp.Properties, "PolicyDocument", "Statement", 0)
	wantStmt := map[string]any{
		"Sid":       "AllowTopicToDeliver",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "sns.amazonaws.com"},
		"Action":    "sqs:SendMessage",
		"Resource":  getAtt("PassQueue", "Arn"),
		"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ref("Topic")}},
	}
	if diff := cmp.Diff(wantStmt, stmt); diff != "" {
		t.Errorf("PassQueuePolicy statement mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_Alarms(t *testing.T) {
	tmpl := loadTemplate(t)

	tests := []struct {
		id         string
		namespace  string
		metric     string
		dimensions []any
	}{
		{"FunctionErrorsAlarm", "AWS/Lambda", "Errors", []any{
			map[string]any{"Name": "FunctionName", "Value": ref("ValidateFunction")},
		}},
		{"FailureQueueAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible", []any{
			map[string]any{"Name": "QueueName", "Value": getAtt("FailureQueue", "QueueName")},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			a := mustResource(t, tmpl, tc.id, "AWS::CloudWatch::Alarm")
			p := a.Properties
			if p["Namespace"] != tc.namespace || p["MetricName"] != tc.metric {
				t.Errorf("%s metric = %v/%v; want %s/%s", tc.id, p["Namespace"], p["MetricName"], tc.namespace, tc.metric)
			}
			if diff := cmp.Diff(tc.dimensions, p["Dimensions"]); diff != "" {
				t.Errorf("%s.Dimensions mismatch (-want +got):\n%s", tc.id, diff)
			}
			if got, want := p["Threshold"], 1; got != want {
				t.Errorf("%s.Threshold = %v; want %v", tc.id, got, want)
			}
			if got, want := p["ComparisonOperator"], "GreaterThanOrEqualToThreshold"; got != want {
				t.Errorf("%s.ComparisonOperator = %v; want %v", tc.id, got, want)
			}
			if got, want := p["AlarmActions"], []any{ref("AlarmTopic")}; !cmp.Equal(got, want) {
				t.Errorf("%s.AlarmActions = %v; want %v", tc.id, got, want)
			}
		})
	}

	// Alarm messages carry no status attribute, so they need a subscription
	// without a filter policy.
	s := mustResource(t, tmpl, "AlarmEmailSubscription", "AWS::SNS::Subscription")
	want := map[string]any{"TopicArn": ref("AlarmTopic"), "Protocol": "email", "Endpoint": ref("FailureEmail")}
	if diff := cmp.Diff(want, s.Properties); diff != "" {
		t.Errorf("AlarmEmailSubscription.Properties mismatch (-want +got):\n%s", diff)
	}
}

func TestTemplate_Outputs(t *testing.T) {
	tmpl := loadTemplate(t)
	outputs := tmpl.Section("Outputs")

	tests := []struct {
		name string
		want any
	}{
		{"UploadBucketName", ref("UploadBucket")},
		{"TopicArn", ref("Topic")},
		{"PassQueueUrl", ref("PassQueue")},
		{"FailureQueueUrl", ref("FailureQueue")},
		{"FunctionName", ref("ValidateFunction")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lookup(t, outputs, tc.name, "Value")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Outputs.%s.Value mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}
