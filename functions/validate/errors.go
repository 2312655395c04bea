package main

import "errors"

var errMissingTopic = errors.New("setting TOPIC_ARN is required: the topic the verdicts are published to")
