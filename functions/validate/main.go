// Validate is a Lambda function that checks the image URLs of every
// marketplace flat file dropped into the upload bucket, writes a report
// beside it, tags it with the verdict and publishes one SNS notification.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flatguard/flatguard/internal/handler"
	"github.com/flatguard/flatguard/internal/notify"
	"github.com/flatguard/flatguard/internal/storage"
	"github.com/flatguard/flatguard/internal/validate"
)

var errMissingTopic = errors.New("setting TOPIC_ARN is required: the topic the verdicts are published to")

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	cfg, err := validate.ConfigFromEnv(os.Getenv)
	topic := os.Getenv("TOPIC_ARN")
	if err == nil && topic == "" {
		err = errMissingTopic
	}
	if err != nil {
		slog.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	// FLATGUARD_S3_PATH_STYLE lets the function reach a local S3 server
	// under the runtime emulator; AWS itself never needs it.
	pathStyle := os.Getenv("FLATGUARD_S3_PATH_STYLE") == "true"
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	h := &handler.Handler{
		Store:        storage.New(s3c),
		Publisher:    notify.New(sns.NewFromConfig(awsCfg), topic),
		Pipeline:     validate.New(cfg),
		UploadBucket: os.Getenv("UPLOAD_BUCKET"),
		Region:       awsCfg.Region,
	}
	lambda.Start(h.Handle)
}
