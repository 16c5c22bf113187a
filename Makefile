# Shortcuts; .ci/run is what CI runs.

FUZZTIME ?= 30s

.PHONY: all build test bench fuzz vet fmt ci oracle-bin oracle e2e-bin e2e e2e-oracle e2e-compare

all: build test

build:
	go build -o bin/regis ./cmd/regis

test:
	go test ./...

# Benchmarks only (no tests): every Benchmark in every package.
bench:
	go test -run '^$$' -bench . ./...

# Every fuzz target of every package, one at a time, FUZZTIME each
# (go test -fuzz takes one target in one package per run).
fuzz:
	@set -e; for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			go test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

vet:
	go vet ./...

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')

ci:
	.ci/run

# A real kube-apiserver v1.37.2, built from the module proxy by the oracle
# module (oracle/go.mod; about 11 minutes the first time, cached after).
oracle-bin:
	cd oracle && go build -o ../bin/oracle/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver

# The differential suite: the same requests to regis and to the oracle.
oracle: oracle-bin
	cd oracle && go test -tags oracle -count=1 ./diff/ $(ORACLEFLAGS)

# Upstream's e2e test binary, k8s.io/kubernetes v1.37.2's test/e2e, built by
# the oracle module (about 20 minutes the first time, cached after).
e2e-bin:
	cd oracle && go test -c -o ../bin/oracle/e2e.test k8s.io/kubernetes/test/e2e

bin/oracle/e2e.test: oracle/go.mod oracle/go.sum
	$(MAKE) e2e-bin

# Upstream's [Conformance] e2e tests against regis, or against the oracle
# started the same way (an API server alone, one fake Ready node): see
# README.md. E2EFLAGS go to the runner (go run ./e2e -h), for instance
# E2EFLAGS='-focus "sig-api-machinery.*Watchers" -timeout 5m' or -all.
e2e: build bin/oracle/e2e.test
	cd oracle && go run ./e2e -server regis $(E2EFLAGS)

e2e-oracle: oracle-bin bin/oracle/e2e.test
	cd oracle && go run ./e2e -server oracle $(E2EFLAGS)

# The last results of both, compared (markdown).
e2e-compare:
	cd oracle && go run ./e2e -compare ../bin/oracle/e2e-oracle/results.json,../bin/oracle/e2e-regis/results.json
