// Echo is a throwaway Lambda function for the devstack emulator test. It
// answers a payload {"env": NAME} with {"value": <the variable's value>},
// fails a payload {"fail": MESSAGE} with that message, and echoes any other
// payload unchanged.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Env  string `json:"env"`
	Fail string `json:"fail"`
}

func handle(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var req request
	_ = json.Unmarshal(payload, &req)
	switch {
	case req.Fail != "":
		return nil, errors.New(req.Fail)
	case req.Env != "":
		return json.Marshal(map[string]string{"value": os.Getenv(req.Env)})
	}
	return payload, nil
}

func main() {
	lambda.Start(handle)
}
