# Spore: every task starts here. `make help` lists them.
GO        ?= go
BIN       := bin/spore
PKGS      := ./...
GOFLAGS_T ?= -race -timeout 25m
APT_PKGS  := wabt binaryen clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 \
             rustc libstd-rust-dev-wasm32 redis-server qemu-user-static wrk

.PHONY: help demo build test check vet fmt-check tidy-check staticcheck cross bench fuzz examples tools hello clean

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## write bin/spore
	$(GO) build -o $(BIN) ./cmd/spore

demo: ## a host with its embedded NATS serving the hello actor over HTTP on 127.0.0.1:8080
	scripts/demo.sh

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
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

cross: ## build spore for linux/arm64 and linux/arm (armv7)
	GOOS=linux GOARCH=arm64 $(GO) build -o bin/spore-linux-arm64 ./cmd/spore
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o bin/spore-linux-armv7 ./cmd/spore

bench: ## run the benchmarks and write docs/benchmarks.md (about 10 minutes)
	./bench/run.sh
	./bench/lattice.sh
	./bench/providers.sh
	./bench/apps.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	./scripts/fuzz.sh $${FUZZTIME:-10s}

# The counter actor in every language (docs/languages.md); each builds only
# when its sources changed. test/languages runs them through spore.
EX        := build/examples
EXAMPLES  := go rust as c wat
RUSTC     ?= /usr/bin/rustc
CLANG     ?= clang-14
AS_DIR    := actors/assemblyscript
ASC       := $(AS_DIR)/node_modules/.bin/asc

examples: $(foreach l,$(EXAMPLES),$(EX)/counter-$(l).wasm) ## build every example actor from source into build/examples/

$(EX)/counter-go.wasm: $(wildcard examples/counter/*.go actors/go/*.go) go.mod go.sum
	@mkdir -p $(@D)
	cd examples/counter && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -buildmode=c-shared -o ../../$@ .

$(EX)/counter-rust.wasm: examples/counter-rust/counter.rs actors/rust/spore.rs
	@mkdir -p $(@D)
	$(RUSTC) --edition 2021 --target wasm32-wasi --crate-type cdylib -C opt-level=s -C panic=abort \
		-C lto -C codegen-units=1 -C strip=symbols -C link-arg=-zstack-size=65536 -o $@ $<

$(EX)/counter-c.wasm: examples/counter-c/counter.c actors/c/spore.c actors/c/spore.h
	@mkdir -p $(@D)
	$(CLANG) --target=wasm32-wasi -mexec-model=reactor -Oz -Wall -Wextra -Werror -I actors/c \
		-Wl,--strip-all -Wl,--stack-first -o $@ examples/counter-c/counter.c actors/c/spore.c

$(EX)/counter-wat.wasm: actors/wat/spore.wat examples/counter-wat/counter.wat
	@mkdir -p $(@D)
	cat $^ > $(EX)/counter-wat.wat
	wat2wasm $(EX)/counter-wat.wat -o $@

$(EX)/counter-as.wasm: $(wildcard examples/counter-as/assembly/*.ts $(AS_DIR)/assembly/*.ts) \
		examples/counter-as/asconfig.json $(AS_DIR)/node_modules/.package-lock.json
	@mkdir -p $(@D)
	$(ASC) examples/counter-as/assembly/index.ts --config examples/counter-as/asconfig.json --outFile $@

# AssemblyScript and the waPC packages, pinned by package-lock.json and
# installed under actors/assemblyscript (never globally).
$(AS_DIR)/node_modules/.package-lock.json: $(AS_DIR)/package.json $(AS_DIR)/package-lock.json
	cd $(AS_DIR) && npm ci --no-audit --no-fund
	@touch $@

tools: ## install the toolchains the tests and examples need (Debian, as root)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS)
	@# Node.js and npm build the AssemblyScript example; keep one already there.
	command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm

clean: ## remove build output
	rm -rf bin build
