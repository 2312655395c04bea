package devstack

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestStack_PublishReachesSubscriber(t *testing.T) {
	ctx := testContext(t)
	arn, err := stack.CreateTopic(ctx, "flatguard-verdicts")
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:sns:us-east-1:000000000000:flatguard-verdicts"; arn != want {
		t.Errorf("CreateTopic ARN = %q; want %q", arn, want)
	}

	// A second CreateTopic must not add a second subscription.
	again, err := stack.CreateTopic(ctx, "flatguard-verdicts")
	if err != nil {
		t.Fatal(err)
	}
	if again != arn {
		t.Errorf("second CreateTopic ARN = %q; want %q", again, arn)
	}

	before := len(stack.Notifications())
	_, err = stack.SNSClient().Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(arn),
		Subject:  aws.String("flatguard: FAIL feeds/my file+v2.txt"),
		Message:  aws.String("3 image URLs will fail.\nSee the report."),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"status":    {DataType: aws.String("String"), StringValue: aws.String("fail")},
			"errorRows": {DataType: aws.String("Number"), StringValue: aws.String("3")},
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v\nlogs:\n%s", err, stack.Logs())
	}

	notes, err := stack.WaitNotifications(ctx, before+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != before+1 {
		t.Fatalf("notifications after one Publish = %d; want %d", len(notes), before+1)
	}
	got := notes[before]
	want := Notification{
		TopicARN:   arn,
		Subject:    "flatguard: FAIL feeds/my file+v2.txt",
		Message:    "3 image URLs will fail.\nSee the report.",
		Attributes: map[string]string{"status": "fail", "errorRows": "3"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Notification{}, "MessageID")); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
	if got.MessageID == "" {
		t.Error("notification MessageID is empty")
	}
}
