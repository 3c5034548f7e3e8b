# The Lambda artifact, built by `sam build` (BuildMethod: makefile in template.yaml): SAM runs the
# target named after each function with ARTIFACTS_DIR set to the folder that becomes its code (once
# per function, the same code each time). The folder holds the locked runtime dependencies, the
# `orchestrator` package without the benchmark's entry point, commands.yaml (and its compiled
# commands.yaml.json) and prompts/: never tests, docs, local state (.orchestrator/), caches or
# virtualenvs.
#
# PYTHON must be the runtime's Python (3.13), since it compiles the .pyc files Lambda will load.
# LAMBDA_MACHINE=x86_64 builds the same artifact for an x86 machine, so that it can be imported
# there (CI's check); the deployed one is for template.yaml's arm64.
PYTHON ?= python3.13
LAMBDA_MACHINE ?= aarch64
LAMBDA_PYTHON_VERSION := 3.13
# Amazon Linux 2023 (glibc 2.34); pip expands manylinux2014 only to older tags, not to newer ones.
LAMBDA_PLATFORMS := manylinux2014_$(LAMBDA_MACHINE) manylinux_2_28_$(LAMBDA_MACHINE) manylinux_2_34_$(LAMBDA_MACHINE)
# The AWS services the functions call (boto3 clients; Powertools' Parameters and Idempotency). botocore
# ships the models of ~440 (28 MB of the 46); the others are removed. A test holds this list to the
# code, and the artifact check builds a client of each from the artifact.
AWS_SERVICES := dynamodb sqs ssm

.PHONY: build-InteractionsFunction build-WorkerFunction build-AlarmFunction

build-InteractionsFunction build-WorkerFunction build-AlarmFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: run sam build" >&2; exit 1; }
	@"$(PYTHON)" -c 'import sys; raise SystemExit("%d.%d" % sys.version_info[:2] != "$(LAMBDA_PYTHON_VERSION)")' || \
	  { echo "PYTHON=$(PYTHON) is not Python $(LAMBDA_PYTHON_VERSION), the runtime template.yaml deploys: set PYTHON to one" >&2; exit 1; }
# Binary wheels for Lambda's platform, each checked against its hash in the lock.
	"$(PYTHON)" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --require-hashes \
	  --only-binary=:all: --implementation cp --python-version $(LAMBDA_PYTHON_VERSION) \
	  $(addprefix --platform ,$(LAMBDA_PLATFORMS)) --target "$(ARTIFACTS_DIR)" -r requirements.lock
	rm -rf "$(ARTIFACTS_DIR)/bin" "$(ARTIFACTS_DIR)/orchestrator" "$(ARTIFACTS_DIR)/prompts"
# The package's modules (and py.typed) and the prompts, by name: whatever else the checkout holds
# beside them (an editor's backup, a .env, a local database, a hidden folder) is never copied.
	{ find orchestrator -type f \( -name '*.py' -o -name py.typed \) ! -path '*/.*' ! -path '*/__pycache__/*'; \
	  find prompts -type f -name '*.md' ! -path '*/.*'; } | tar -cf - -T - | tar -xf - -C "$(ARTIFACTS_DIR)"
	cp commands.yaml "$(ARTIFACTS_DIR)/"
# commands.yaml read once, into commands.yaml.json: the functions then never import PyYAML at cold
# start (orchestrator/commands/compiled.py). Read as the functions read it: with the lock's PyYAML
# and its libyaml, installed for this machine in a scratch folder (the artifact's native code may be
# for another machine, and PyYAML's pure-Python parser takes some texts differently), and the
# artifact's own package (-P -S: neither this checkout nor a virtualenv; -B: no .pyc written there).
	scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && trap 'exit 1' INT TERM HUP && \
	  awk '{ sub(/\r$$/, "") } /^pyyaml==/ { keep = 1 } keep { print } keep && !/\\$$/ { exit }' \
	    requirements.lock > "$$scratch/pyyaml.txt" && \
	  { grep -q -e '--hash=sha256:' "$$scratch/pyyaml.txt" || \
	    { echo "requirements.lock has no pyyaml entry with hashes: refresh it (RUNBOOK.md)" >&2; exit 1; }; } && \
	  "$(PYTHON)" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --no-deps \
	    --require-hashes --only-binary=:all: --target "$$scratch/site" -r "$$scratch/pyyaml.txt" && \
	  PYTHONPATH="$$scratch/site:$(ARTIFACTS_DIR)" "$(PYTHON)" -P -S -B -m orchestrator.commands.compiled \
	    "$(ARTIFACTS_DIR)/commands.yaml"
# The benchmark's entry point (`python -m orchestrator.bench`) is all of orchestrator_dev that is in the package.
	rm -f "$(ARTIFACTS_DIR)/orchestrator/bench.py"
	find "$(ARTIFACTS_DIR)/botocore/data" -mindepth 1 -maxdepth 1 -type d \
	  $(foreach service,$(AWS_SERVICES),! -name $(service)) -exec rm -rf {} +
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
# Lambda's code folder is read-only: without these every cold start compiles every module again.
# Unchecked hashes: the zip does not keep source times exactly, and the code never changes there.
# Paths as Lambda sees them (/var/task), so the same sources give the same bytes.
	"$(PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$(ARTIFACTS_DIR)" -p /var/task "$(ARTIFACTS_DIR)"
