# make report: the year's assurance statement on the bundled synthetic sample
# make test:   the test suite
# Both set themselves up on a fresh machine (Python 3.11, pip, Debian's Pango).

PYTHON ?= python3
YEAR ?= 2023-24
VENV := .venv
PY := $(VENV)/bin/python
SSCP := $(VENV)/bin/sscp
STAMP := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/sscp/kernel.json
SAMPLE := data/raw/$(YEAR)/_sample.json
VALIDATED := data/processed/$(YEAR)/validated/referrals.parquet
# axe-core for the accessibility test, from the npm registry as package-lock.json pins it.
NPM := $(shell command -v npm 2>/dev/null)
NODE_STAMP := node_modules/.package-lock.json

.PHONY: report test lab bench setup sample clean-reports

report: setup $(SAMPLE)
	$(SSCP) run --year $(YEAR)

test: setup $(if $(NPM),$(NODE_STAMP))
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

# JupyterLab at the repository root on scratch/explore_referrals.ipynb, a working copy of the
# template notebooks/explore_referrals.ipynb (see sscp_lib/explore/lab.py); runs the chain first
# if there are no validated tables yet.
lab: setup $(VALIDATED)
	$(SSCP) lab

bench: setup
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.reruns
	$(PY) -m benchmarks.explore
	$(PY) -m benchmarks.cin_census

setup: $(STAMP) $(KERNEL) check-pango

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version' \
	  || { echo "Set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(KERNEL): $(STAMP)
	$(SSCP) kernel

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

.PHONY: check-pango
check-pango: $(STAMP)
	@$(PY) -c 'import weasyprint' 2>/dev/null || { \
	  echo "WeasyPrint cannot load Pango. Install it with:"; \
	  echo "  sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core"; \
	  exit 1; }

# The synthetic sample and a local pseudonymisation key, made once.
$(SAMPLE): $(STAMP)
	$(SSCP) keygen
	$(SSCP) sample --out data/raw

sample: $(SAMPLE)

$(VALIDATED): | $(SAMPLE)
	$(SSCP) run --year $(YEAR) --no-pdf

clean-reports:
	rm -rf reports/$(YEAR) data/processed/$(YEAR)
