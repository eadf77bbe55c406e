# printflow-infra: everything runs offline from a fresh clone with only Python 3.11 and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACKS := --stack prod --stack dr --stack staging

.PHONY: help setup compile preview render policy policy-list graph diagram docs lint test bench clean

help:
	@echo "make preview   set up, render prod, dr and staging offline (also as a first pulumi preview sees them), and check them against the policy pack"
	@echo "make test      run the test suite (mocks and moto; no cloud credentials)"
	@echo "make policy    offline policy check of prod, dr and staging (SARIF: make policy SARIF=out/policy.sarif)"
	@echo "make graph     write out/graph.json (full resource graph) and out/diagram.mmd"
	@echo "make bench     time the offline render and the policy check in fresh processes"
	@echo "make lint      audit the GitHub workflows with zizmor (offline)"
	@echo "make docs      regenerate the configuration and policy tables, Pulumi.yaml declarations and diagram"

$(STAMP): requirements.txt requirements-dev.txt requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	touch $(STAMP)

setup: $(STAMP)

# Byte-compile the project once: this environment may set PYTHONDONTWRITEBYTECODE, and every
# command here starts fresh processes (compileall skips what is already up to date).
compile: $(STAMP)
	@$(PY) -m compileall -q components tools policies ops __main__.py >/dev/null

preview: compile
	$(PY) -m tools.render $(STACKS)
	$(PY) -m tools.render $(STACKS) --preview-mode --quiet
	$(MAKE) --no-print-directory policy

render: compile
	$(PY) -m tools.render $(STACKS)

policy: compile
	$(PY) -m tools.policy_check $(STACKS) $(if $(SARIF),--sarif $(SARIF))

policy-list: $(STAMP)
	$(PY) -m tools.policy_check --list

graph: $(STAMP)
	$(PY) -m tools.render $(STACKS) --quiet --graph out/graph.json
	$(PY) -m tools.render $(STACKS) --mermaid > out/diagram.mmd
	@echo "wrote out/graph.json and out/diagram.mmd"

diagram: $(STAMP)
	$(PY) -m tools.readme_diagram

docs: $(STAMP)
	$(PY) -m tools.config_docs
	$(PY) -m tools.policy_docs
	$(PY) -m tools.readme_diagram

test: $(STAMP)
	$(PY) -m pytest -q

# zizmor audits the GitHub workflows offline (pinned actions, credentials, permissions, ...).
lint: $(STAMP)
	$(VENV)/bin/zizmor --offline .github/workflows/

bench: compile
	$(PY) -m tools.bench

clean:
	rm -rf out .pytest_cache
