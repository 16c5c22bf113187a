# Shortcuts; .ci/run is what CI runs.

FUZZTIME ?= 30s

.PHONY: all build test bench fuzz vet fmt ci oracle-bin oracle

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
