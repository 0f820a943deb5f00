# Every target creates .venv when it is missing and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TOOLS := tools/node_modules/.installed
SYSTEM := .venv/.system-packages

.PHONY: build test lint check serve clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# CI passes the hosting URL (make build BASE_URL=https://owner.github.io/repo/); without it the
# build uses site.yaml's base_url.
BASE_URL ?=

build: $(STAMP)
	$(BIN)/fitatlas build $(if $(BASE_URL),--base-url $(BASE_URL))

check: $(STAMP)
	$(BIN)/fitatlas check

lint: $(STAMP)
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench
	$(BIN)/mypy

# Browser tests need Debian's Chromium; the HTML checker needs Java. Both come from Debian's
# packages (never a downloaded browser); installed once, when missing.
$(SYSTEM):
	@command -v chromium >/dev/null && command -v java >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium default-jre-headless >/dev/null; }
	touch $(SYSTEM)

$(TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $(TOOLS)

test: $(STAMP) $(SYSTEM) $(TOOLS) lint
	$(BIN)/pytest

serve: $(STAMP)
	$(BIN)/fitatlas serve

clean:
	rm -rf $(VENV) site tools/node_modules
