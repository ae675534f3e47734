SHELL := /bin/bash
# Every recipe line runs under bash with errexit, nounset and pipefail.
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO       ?= go
BIN      := bin/fieldsvc
SERVICES := scripts/services.sh

# Prefix for a recipe line that needs the services' variables (DATABASE_URL,
# S3_*, JWT_SECRET). Assigning first makes a failing `services.sh env` stop the
# line; a bare eval "$$(...)" would hide that failure.
WITH_ENV = svc_env="$$($(SERVICES) env)" && eval "$$svc_env" &&

.PHONY: build run test bench fmt vet lint services-up services-down services-status

services-up:
	$(SERVICES) up

services-down:
	$(SERVICES) down

services-status:
	$(SERVICES) status

build:
	$(GO) build ./...
	$(GO) build -o $(BIN) ./cmd/fieldsvc

# Starts the services, migrates, loads the demo data and serves in the foreground.
run: services-up build
	$(WITH_ENV) $(BIN) migrate && $(BIN) seed-demo && exec $(BIN) serve

test: services-up lint
	$(WITH_ENV) $(GO) test -race -count=1 ./...

# Every benchmark beside its baseline, then a table of the ratios (scripts/benchtable).
# Data sizes are in the benchmark names. The whole run takes about 3–5 minutes on 2 cores.
BENCHTIME ?= 2s
bench: services-up
	$(WITH_ENV) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 20m ./... | $(GO) run ./scripts/benchtable

# Fails when any Go file is not gofmt-formatted (or does not parse).
fmt:
	@unformatted="$$(gofmt -l .)"; \
	if [[ -n "$$unformatted" ]]; then \
		echo "gofmt: these files need formatting (run: gofmt -w .):" >&2; \
		echo "$$unformatted" >&2; \
		exit 1; \
	fi

vet:
	$(GO) vet ./...

lint: fmt vet
