# Every target creates .venv when it is missing and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TOOLS := tools/node_modules/.installed
SYSTEM := .venv/.system-packages

.PHONY: build test test-nosystem lint check serve clean

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
# packages (never a downloaded browser); installed once, when missing, which takes root: as
# another user the target says what to install and stops.
SYSTEM_PACKAGES := chromium default-jre-headless
$(SYSTEM):
	@if command -v chromium >/dev/null && command -v java >/dev/null; then :; \
	elif [ "$$(id -u)" -eq 0 ]; then \
		echo "make test: installing Debian packages ($(SYSTEM_PACKAGES)), once; about a minute."; \
		echo "  chromium: the browser tests drive Debian's Chromium (no browser is downloaded)"; \
		echo "  default-jre-headless: Java, for the Nu HTML checker run on every built page"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "make test needs Debian packages it cannot install without root: $(SYSTEM_PACKAGES)" >&2; \
		echo "(chromium for the browser tests, Java for the HTML checker). Either install them once:" >&2; \
		echo "  sudo apt-get install $(SYSTEM_PACKAGES)" >&2; \
		echo "and run make test again as yourself, or run the tests that need neither:" >&2; \
		echo "  make test-nosystem" >&2; \
		exit 1; \
	fi
	@mkdir -p $(VENV) && touch $(SYSTEM)

$(TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $(TOOLS)

test: $(STAMP) $(SYSTEM) $(TOOLS) lint
	$(BIN)/pytest

# Without root or the Debian packages: lint and every test but the browser tests and the two
# that run the Nu HTML checker (Java).
test-nosystem: $(STAMP) lint
	$(BIN)/pytest -m "not browser" --deselect tests/test_publish.py::test_every_page_passes_the_nu_html_checker \
		--deselect tests/test_publish.py::test_the_html_gate_names_the_page_with_an_invalid_tag

serve: $(STAMP)
	$(BIN)/fitatlas serve

clean:
	rm -rf $(VENV) site .fitatlas-preview tools/node_modules
