# flatguard build, test and deploy targets (GNU make).
#
# `make test` and `make demo` need nothing but Go. The Lambda build flags live
# in LAMBDA_ENV and LAMBDA_FLAGS only: `build`, `build-ValidateFunction` (run
# by `sam build`) and the bootstrap test in internal/deploy all go through
# the `build` recipe, so what the test checks is what ships.

GO ?= go

# BIN is where `make build` writes the Lambda binary.
BIN ?= bin/bootstrap

# VERSION is the product version the Lambda reports in its User-Agent.
VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo dev)

LAMBDA_PKG := ./functions/validate
LAMBDA_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_LDFLAGS = -s -w -X github.com/flatguard/flatguard/internal/probe.Version=$(VERSION)
LAMBDA_FLAGS = -tags lambda.norpc -trimpath -ldflags="$(LAMBDA_LDFLAGS)"

# NEED_CHROMIUM=1 (the default) makes .ci/deps install Debian's chromium when
# it is missing: the HTML report test needs it.
NEED_CHROMIUM ?= 1

FUZZTIME ?= 30s
EVENT ?= events/s3-put.json

.DEFAULT_GOAL := build

.PHONY: build build-ValidateFunction cli test deps vet demo bench lint fuzz deploy invoke clean

## build: the Lambda bootstrap for linux/arm64, static, into $(BIN)
build:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(BIN)" $(LAMBDA_PKG)

## build-ValidateFunction: what `sam build` runs (BuildMethod: makefile)
build-ValidateFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-ValidateFunction: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	@$(MAKE) --no-print-directory build BIN="$(ARTIFACTS_DIR)/bootstrap"

## deps: report (and, when asked, install) the distribution packages tests use
deps:
	@NEED_CHROMIUM=$(NEED_CHROMIUM) bash .ci/deps

## vet: go vet every package
vet:
	$(GO) vet ./...

## test: every test, the integration tests against local S3/SNS/runtime included
test: deps vet
	$(GO) test -count=1 -timeout 30m ./...

## cli: the flatguard CLI and its flatguard-dev helper (demo, invoke) into bin/
cli:
	$(GO) build -o bin/ ./cmd/flatguard ./cmd/flatguard-dev

## demo: the whole Lambda path on this machine
demo: cli
	bin/flatguard demo

## bench: benchmarks only
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: gofmt, go vet, no FIXME/XXX comments; staticcheck and cfn-lint when installed
lint:
	@files="$$(find . -name '*.go' -not -path './.git/*' -not -path './.aws-sam/*' -not -path '*/testdata/*')"; \
	unformatted="$$(gofmt -l $$files)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "lint: staticcheck not installed, skipped"; fi
	@if command -v cfn-lint >/dev/null 2>&1; then cfn-lint template.yaml; else echo "lint: cfn-lint not installed, skipped (internal/deploy tests still check template.yaml)"; fi
	@if grep -rnE --include='*.go' --exclude-dir=.git --exclude-dir=.aws-sam '//.*\b(FIXME|XXX)\b' . ; then \
		echo "lint: FIXME/XXX comments are not allowed on main (use TODO(owner) or NOTE)"; exit 1; fi

## fuzz: every Fuzz target, $(FUZZTIME) each
fuzz:
	@grep -rlE --include='*_test.go' --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]*\(\s*\w+ \*testing\.F\)' . | sort | \
	while read -r file; do \
		dir="$$(dirname "$$file")"; \
		for name in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$file"); do \
			echo "fuzz $$dir $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime=$(FUZZTIME) "$$dir" || exit 1; \
		done; \
	done

## deploy: build and deploy the stack with the AWS SAM CLI
deploy:
	@command -v sam >/dev/null 2>&1 || { \
		echo "make deploy needs the AWS SAM CLI, which is not installed here."; \
		echo "Install it (see the AWS SAM developer guide), configure AWS credentials, then run: sam build && sam deploy --guided"; \
		exit 1; }
	sam build && sam deploy --guided

## invoke: run the handler locally on a sample event (EVENT=events/....json)
invoke: cli
	bin/flatguard invoke $(EVENT)

## clean: remove build output
clean:
	rm -rf bin .aws-sam demo-out
