# Entry points: `make run` (install, build model and index, start the chat) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps model index run test test-fast bench bench-scale lint format clean

install: $(STAMP)

# torch first and pinned (a local CPU build); an unpinned torch would pull GBs of CUDA packages.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[llm,test]'
	@$(MAKE) --no-print-directory system-deps
	touch $(STAMP)

# Apertium (English→Spanish question translation) and Chromium (browser tests) from Debian.
system-deps:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  missing=""; \
	  command -v apertium >/dev/null && [ -f /usr/share/apertium/modes/eng-spa.mode ] || missing="$$missing apertium apertium-en-es"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	      || echo "warning: could not install$$missing; carrying on without them"; \
	  fi; \
	else \
	  echo "skipped: apertium/chromium install needs apt-get and root; English questions will be searched" \
	       "without translation and browser tests will be skipped"; \
	fi

model: install
	$(BIN)/briefing models build

index: model
	$(BIN)/briefing index --corpus data/articles

run: model
	$(BIN)/briefing serve --corpus data/articles

test: model
	$(BIN)/ruff check assistant tests bench app.py
	$(BIN)/python -m pytest -q
	$(BIN)/briefing eval data/dev_questions.jsonl --corpus data/articles \
	  --fail-under answer_accuracy=1.0 --fail-under citation_validity=1.0 \
	  --fail-under citation_precision=0.9 --fail-under abstention_accuracy=1.0

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: model
	$(BIN)/python bench/xquad.py

# Indexing at scale: synthetic corpora of 250, 2,500 and 20,000 paragraphs, and a million sentences with
# random vectors (about an hour and a half on 2 cores).
bench-scale: model
	$(BIN)/python bench/scale.py

lint: install
	$(BIN)/ruff check assistant tests bench app.py
	$(BIN)/ruff format --check assistant tests bench app.py

format: install
	$(BIN)/ruff format assistant tests bench app.py
	$(BIN)/ruff check --fix assistant tests bench app.py

# The index only; the converted model stays in the per-user cache (`briefing models build --force`).
clean:
	rm -rf $(VENV) index/chroma index/lexical index/chunks.sqlite* index/index.lock index/manifest.json index/models
