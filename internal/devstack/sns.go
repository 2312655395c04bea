package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/gosns"
	"github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/sirupsen/logrus"
)

// accountID is the account goaws puts into topic ARNs.
const accountID = "000000000000"

// snsServer is goaws's router served on a loopback listener.
type snsServer struct {
	url string
	srv *http.Server
	// oldOut and oldLevel are logrus's settings before the stack quieted it.
	oldOut   io.Writer
	oldLevel logrus.Level
}

// startSNS configures goaws's globals and serves its router on 127.0.0.1.
// goaws logs through logrus's standard logger; while the stack runs, only
// its warnings and errors are kept, in logs.
func startSNS(region string, logs io.Writer) (*snsServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start sns: %v", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	std := logrus.StandardLogger()
	s := &snsServer{
		url:      "http://127.0.0.1:" + port,
		srv:      &http.Server{Handler: router.New(), ReadHeaderTimeout: 10 * time.Second},
		oldOut:   std.Out,
		oldLevel: std.GetLevel(),
	}
	std.SetOutput(logs)
	std.SetLevel(logrus.WarnLevel)

	// goaws builds subscription and signing-certificate URLs from Host and
	// Port, and topic ARNs from Region and AccountID.
	app.CurrentEnvironment = app.Environment{
		Host:      "127.0.0.1",
		Port:      port,
		Region:    region,
		AccountID: accountID,
	}
	resetTopics()

	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// close stops the server, forgets goaws's topics and gives logrus its
// settings back.
func (s *snsServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)

	resetTopics()
	std := logrus.StandardLogger()
	std.SetOutput(s.oldOut)
	std.SetLevel(s.oldLevel)
	if err != nil {
		return fmt.Errorf("stop sns: %v", err)
	}
	return nil
}

// resetTopics empties goaws's topic registry and pending confirmations.
func resetTopics() {
	app.SyncTopics.Lock()
	app.SyncTopics.Topics = make(map[string]*app.Topic)
	app.SyncTopics.Unlock()
	clear(gosns.TOPIC_DATA)
}

// Notification is one message the HTTP subscriber received.
type Notification struct {
	// TopicARN is the topic the message was published to.
	TopicARN string
	// Subject is the Publish Subject, empty when none was given.
	Subject string
	// Message is the Publish Message.
	Message string
	// Attributes maps each message attribute's name to its value (the
	// String or Binary value as sent; the data type is dropped).
	Attributes map[string]string
	// MessageID is the delivery's message ID. goaws makes it up at delivery,
	// so it differs from the MessageId that Publish returned.
	MessageID string
}

// snsEnvelope is the JSON body SNS POSTs to an HTTP subscriber.
type snsEnvelope struct {
	Type              string                                  `json:"Type"`
	MessageID         string                                  `json:"MessageId"`
	Token             string                                  `json:"Token"`
	TopicARN          string                                  `json:"TopicArn"`
	Subject           string                                  `json:"Subject"`
	Message           string                                  `json:"Message"`
	MessageAttributes map[string]struct{ Type, Value string } `json:"MessageAttributes"`
}

// subscriber is the HTTP endpoint subscribed to every topic the stack makes.
type subscriber struct {
	url string
	srv *http.Server

	mu     sync.Mutex
	notes  []Notification
	tokens map[string]string // topic ARN -> confirmation token
	// changed is closed and replaced whenever notes or tokens change.
	changed chan struct{}
}

// startSubscriber serves the subscriber on 127.0.0.1.
func startSubscriber() (*subscriber, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start sns subscriber: %v", err)
	}
	sub := &subscriber{
		url:     "http://" + ln.Addr().String() + "/sns",
		tokens:  make(map[string]string),
		changed: make(chan struct{}),
	}
	sub.srv = &http.Server{Handler: http.HandlerFunc(sub.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sub.srv.Serve(ln) }()
	return sub, nil
}

// serveHTTP records a notification or a subscription confirmation token.
func (sub *subscriber) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var env snsEnvelope
	if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
		http.Error(w, "bad sns message: "+err.Error(), http.StatusBadRequest)
		return
	}

	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch env.Type {
	case "SubscriptionConfirmation":
		sub.tokens[env.TopicARN] = env.Token
	case "Notification":
		attrs := make(map[string]string, len(env.MessageAttributes))
		for name, a := range env.MessageAttributes {
			attrs[name] = a.Value
		}
		sub.notes = append(sub.notes, Notification{
			TopicARN:   env.TopicARN,
			Subject:    env.Subject,
			Message:    env.Message,
			Attributes: attrs,
			MessageID:  env.MessageID,
		})
	default:
		http.Error(w, "unknown sns message type "+env.Type, http.StatusBadRequest)
		return
	}
	close(sub.changed)
	sub.changed = make(chan struct{})
}

// wait calls done under the lock until it reports true or ctx ends.
func (sub *subscriber) wait(ctx context.Context, done func() bool) error {
	for {
		sub.mu.Lock()
		ok, changed := done(), sub.changed
		sub.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// close stops the subscriber.
func (sub *subscriber) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sub.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop sns subscriber: %v", err)
	}
	return nil
}

// CreateTopic makes an SNS topic, subscribes the stack's HTTP subscriber to
// it over the http protocol and confirms the subscription with the token
// goaws sent, returning the topic ARN. Calling it again for the same name
// returns the same ARN and keeps a single subscription. It takes about a
// second: goaws pauses before sending the confirmation.
func (s *Stack) CreateTopic(ctx context.Context, name string) (string, error) {
	client := s.SNSClient()
	out, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create topic %s: %w", name, err)
	}
	arn := aws.ToString(out.TopicArn)

	_, err = client.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(arn),
		Protocol: aws.String("http"),
		Endpoint: aws.String(s.sub.url),
	})
	if err != nil {
		return "", fmt.Errorf("subscribe to topic %s: %w", arn, err)
	}

	var token string
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = s.sub.wait(wctx, func() bool {
		token = s.sub.tokens[arn]
		return token != ""
	})
	if err != nil {
		return "", fmt.Errorf("wait for confirmation of topic %s: %w", arn, err)
	}

	_, err = client.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{
		TopicArn: aws.String(arn),
		Token:    aws.String(token),
	})
	if err != nil {
		return "", fmt.Errorf("confirm subscription to topic %s: %w", arn, err)
	}
	return arn, nil
}

// Notifications returns a copy of every notification received so far, in
// arrival order.
func (s *Stack) Notifications() []Notification {
	s.sub.mu.Lock()
	defer s.sub.mu.Unlock()
	return append([]Notification(nil), s.sub.notes...)
}

// WaitNotifications waits until at least n notifications have arrived and
// returns them all, or returns what has arrived with ctx's error when ctx
// ends first.
func (s *Stack) WaitNotifications(ctx context.Context, n int) ([]Notification, error) {
	err := s.sub.wait(ctx, func() bool { return len(s.sub.notes) >= n })
	notes := s.Notifications()
	if err != nil {
		return notes, fmt.Errorf("wait for %d sns notifications, have %d: %w", n, len(notes), err)
	}
	return notes, nil
}
