"""Retrieval: the question read (`query`), passages ranked and fused (`fusion`), their sentences scored
(`sentences`), behind a LangChain retriever (`retriever`)."""

from .query import Query
from .retriever import HybridRetriever, Retrieval
from .sentences import ScoredSentence

__all__ = ["HybridRetriever", "Query", "Retrieval", "ScoredSentence"]
