# lockstep — see README.md. `make demo` and `make test` are the two set-up commands.
GO       ?= go
BIN      := bin/lockstep
PKGS     := ./...
export CGO_ENABLED := 1

.PHONY: build test test-short check demo bench deps clean fuzz screenshot

build:
	$(GO) build -o $(BIN) ./cmd/lockstep

# deps installs what the tests need besides Go: dynalite (pinned in
# package-lock.json) from the npm registry.
deps:
	@if [ -f package-lock.json ]; then \
		if [ ! -x node_modules/.bin/dynalite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
			npm ci --no-audit --no-fund --loglevel=error; \
		fi; \
	fi

test: deps build
	$(GO) test -race -count=1 -timeout 18m $(PKGS)

test-short: build
	$(GO) test -short -count=1 $(PKGS)

check:
	@scripts/check.sh

demo: build
	./$(BIN) demo

# screenshot renders a real tmux capture of the demo's first prompt to
# docs/demo.svg, the README's picture (needs tmux).
screenshot: build
	$(GO) run ./internal/tools/screenshot -bin $(BIN) -o docs/demo.svg

bench: deps build
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./bench/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./runbook

clean:
	rm -rf bin
