# Coffre: `make run` starts everything on http://127.0.0.1:8000, `make test` runs the test suite.
#
# The virtualenv lives in .venv (Python 3.11); it is (re)installed from constraints.txt only when
# pyproject.toml or constraints.txt change (stamp file .venv/.installed).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := test,rq
SPEC_DIR ?= ../shared/reference/ebox
PYTEST_ARGS ?=

.PHONY: help venv install browser gettext imap run test messages conformance bench lock clean

help:
	@echo "make run          install, migrate, load the demo data and start Coffre on http://127.0.0.1:8000"
	@echo "make test         run the test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make messages     update the translation catalogs from the code and compile them (docs/translations.md)"
	@echo "make conformance  check the live API against the official Swagger files (SPEC_DIR=$(SPEC_DIR))"
	@echo "make bench        print the benchmark table"
	@echo "make lock         regenerate constraints.txt from a fresh virtualenv"
	@echo "make clean        remove the virtualenv and build leftovers (keeps ./var, your data and keys)"

# Always checked (cheap): makes the venv when it is missing or its interpreter no longer runs.
venv:
	@scripts/venv.sh $(VENV)

$(STAMP): pyproject.toml constraints.txt | venv
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/coffre migrate --noinput
	$(BIN)/coffre collectstatic --noinput
	$(BIN)/coffre demo
	COFFRE_DEMO_PORTAL=$${COFFRE_DEMO_PORTAL:-true} exec $(BIN)/coffre run  # the demo's fake provider portal

# The browser tests drive Debian's chromium (Playwright cannot download its own browsers here).
browser:
	@scripts/ensure-debian-packages.sh chromium

# GNU gettext (xgettext, msgmerge, msgfmt) extracts and compiles the messages; running Coffre does
# not need it (the compiled .mo files are committed), the test of the catalogs does.
gettext:
	@scripts/ensure-debian-packages.sh gettext

# The IMAP polling tests run a throwaway Dovecot (coffre.testing.imap) from Debian's package.
imap:
	@scripts/ensure-debian-packages.sh dovecot-imapd

test: install browser gettext imap
	$(BIN)/pytest -q $(PYTEST_ARGS)

# Every message of the code into the fr, nl and de catalogs (src/coffre/locale), then the .mo files.
# New or changed messages come out untranslated or fuzzy: translate them, run this again, commit.
messages: install gettext
	cd src/coffre && COFFRE_VAR_DIR=$(CURDIR)/var ../../$(BIN)/coffre makemessages -l fr -l nl -l de
	cd src/coffre && COFFRE_VAR_DIR=$(CURDIR)/var ../../$(BIN)/coffre compilemessages

conformance: install
	$(BIN)/python -m coffre.conformance --spec-dir $(SPEC_DIR)

bench: install
	$(BIN)/python bench/run.py

# A fresh venv resolves the newest versions pyproject.toml allows; their exact versions become
# the lock. The editable project itself is left out.
lock:
	@rm -rf .lock-venv
	@scripts/venv.sh .lock-venv
	.lock-venv/bin/pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	@{ echo "# Exact versions for pip install -c constraints.txt -e '.[$(EXTRAS)]'; regenerate with make lock."; \
	   .lock-venv/bin/pip freeze --exclude-editable; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt
	@rm -rf .lock-venv
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) packages"

clean:
	rm -rf $(VENV) .lock-venv build dist src/*.egg-info .pytest_cache .hypothesis
	find src tests bench -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
