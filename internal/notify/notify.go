// Package notify publishes flatguard's verdict on a file to an SNS topic:
// one plain-text message with a short subject and the message attributes
// that subscription filter policies route on.
package notify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// snsAPI is the part of the SNS client this package calls.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ snsAPI = (*sns.Client)(nil)

// Message is one notification.
type Message struct {
	Subject string
	Body    string
	// Attributes become SNS string message attributes; empty values are
	// left out, as SNS rejects them.
	Attributes map[string]string
}

// Publisher sends messages to one topic.
type Publisher struct {
	client   snsAPI
	topicARN string
}

// New returns a Publisher for topicARN.
func New(client *sns.Client, topicARN string) *Publisher {
	return &Publisher{client: client, topicARN: topicARN}
}

// retryThrottled makes the SDK retry SNS's own throttling error. SNS
// answers an exceeded Publish rate with ThrottledException (HTTP 429, code
// "Throttled"), which the SDK's standard retryer knows neither by status
// nor by code: without this, one throttled publish fails the invocation.
func retryThrottled(o *sns.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, (&types.ThrottledException{}).ErrorCode())
}

// Publish sends m and returns the SNS message ID. Throttling is retried by
// the client's retryer, SNS's ThrottledException included.
func (p *Publisher) Publish(ctx context.Context, m Message) (string, error) {
	attrs := make(map[string]types.MessageAttributeValue, len(m.Attributes))
	for k, v := range m.Attributes {
		if v != "" {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	out, err := p.client.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(p.topicARN),
		Subject:           aws.String(m.Subject),
		Message:           aws.String(m.Body),
		MessageAttributes: attrs,
	}, retryThrottled)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", p.topicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}
