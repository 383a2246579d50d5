# Spore: every task starts here. `make help` lists them.
GO        ?= go
BIN       := bin/spore
PKGS      := ./...
GOFLAGS_T ?= -race -timeout 25m
APT_PKGS  := wabt binaryen clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 \
             rustc libstd-rust-dev-wasm32 redis-server qemu-user-static wrk

.PHONY: help build test check vet fmt-check tidy-check staticcheck cross bench fuzz examples tools hello clean

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## write bin/spore
	$(GO) build -o $(BIN) ./cmd/spore

hello: build ## build, sign and run the hello example actor in a local host
	@mkdir -p build
	cd examples/hello && GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o ../../build/hello.wasm .
	$(BIN) sign build/hello.wasm -o build/hello_s.wasm --name hello --cap spore:logging
	$(BIN) run build/hello_s.wasm Hello world && echo

test: fmt-check vet ## run every test (needs the toolchains: make tools)
	$(GO) test $(GOFLAGS_T) $(PKGS)

check: test tidy-check staticcheck cross ## the full gate: tests, vet, staticcheck, gofmt, tidy, cross-builds

vet: ## go vet
	$(GO) vet $(PKGS)

fmt-check: ## fail if any file is not gofmt'ed
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check: ## fail if go.mod or go.sum is not tidy
	$(GO) mod tidy -diff

staticcheck: ## run staticcheck
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 $(PKGS)

cross: ## build spore for linux/arm64 and linux/arm (armv7)
	GOOS=linux GOARCH=arm64 $(GO) build -o bin/spore-linux-arm64 ./cmd/spore
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o bin/spore-linux-armv7 ./cmd/spore

bench: ## run the benchmarks and write docs/benchmarks.md
	./bench/run.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	./scripts/fuzz.sh $${FUZZTIME:-10s}

tools: ## install the toolchains the tests and examples need (Debian, as root)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS)

clean: ## remove build output
	rm -rf bin build
