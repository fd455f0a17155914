"""The errors a user can meet, each with a one-line message meant for them. The CLI, the chat and the API
catch these by name; they are raised deep in the stages, so they live where every stage can reach them."""

from __future__ import annotations


class InvalidQuestion(ValueError):
    """A question that cannot be asked (empty, too long)."""


class NoIndex(RuntimeError):
    """Nothing is indexed yet."""


class EmptyCorpus(ValueError):
    """No readable article in the corpus folder (or no such folder)."""


class IndexBusy(RuntimeError):
    """Another process is indexing the same index."""


class IndexMismatch(RuntimeError):
    """The index was built with another embedding model."""


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded from local files."""


class LLMUnavailable(RuntimeError):
    """The configured language model cannot be used at all (missing package, bad spec)."""


class StoreUnavailable(RuntimeError):
    """The configured store (a PostgreSQL server) cannot be reached or set up."""
