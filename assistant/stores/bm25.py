"""The lexical index in files: BM25 (bm25s) over passages and over their sentences, of the terms that
`text.analysis.analyze` gives (Spanish-aware: accent folding, stopwords, Snowball stemming).

Built from the source store's analysed terms after a sync and saved under `INDEX_DIR/lexical/<generation>/`
(bm25s's own format, memory-mapped when opened, so opening reads no chunk text). `CURRENT` names the
generation in use; a rebuild writes a new one beside it and switches, so readers never see half an index."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

DIR_NAME = "lexical"
CURRENT = "CURRENT"
K1, B = 1.2, 0.75
_EMPTY = 0  # term id of a placeholder: bm25s wants at least one term per document
_ID_DTYPE = "S16"  # chunk ids are 16 hex digits
HEAD = 2000  # best-scoring documents sorted for a ranking: rankings use the first 50, never the long tail
SCORE_CACHE = 4  # score arrays kept per level: a question asks for its terms' scores several times


class BM25Index:
    """BM25 over one level (passages or sentences); documents are positions 0..size-1."""

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self._bm25, self.size = bm25, size
        indptr = bm25.scores["indptr"] if size else np.zeros(1, dtype=np.int64)
        self._df = np.diff(indptr)  # documents holding each term: columns of the CSC matrix

    @classmethod
    def build(cls, terms: np.ndarray, bounds: np.ndarray, vocab_size: int) -> BM25Index:
        """BM25 (Lucene's variant, as bm25s scores it) over documents given as one flat array of term ids
        and the offsets where each document starts (plus the end). Built with numpy from those two
        arrays, in CSC order (term-major), with no Python object per term: a million sentences cost a few
        hundred MB instead of the GB that bm25s's list-of-lists input needs."""
        bm25 = bm25s.BM25(k1=K1, b=B)
        size = len(bounds) - 1
        if size:
            bm25.scores = _lucene_csc(terms, bounds, vocab_size)
            bm25.nonoccurrence_array = None  # Lucene's BM25 has none
        return cls(bm25, size)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._bm25.vocab_dict = {}  # the shared vocabulary is saved once, by LexicalIndex
            self._bm25.save(path, show_progress=False)

    @classmethod
    def load(cls, path: Path, size: int) -> BM25Index:
        if not size:
            return cls(bm25s.BM25(k1=K1, b=B), 0)
        bm25 = bm25s.BM25.load(path, mmap=True, load_vocab=False, show_progress=False)
        return cls(bm25, size)

    def scores(self, term_ids: Sequence[int]) -> np.ndarray:
        if not term_ids or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return self._bm25.get_scores_from_ids(list(term_ids))

    def df(self, term_id: int) -> int:
        return int(self._df[term_id]) if 0 <= term_id < len(self._df) else 0


class Bm25Lexical:
    """BM25 over passages and over sentences, sharing one vocabulary, with the maps between them:
    passage position -> chunk id, sentence position -> passage position. One generation: it never
    changes once opened (a `LexicalIndex`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.generation = path.name
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        self.vocab: dict[str, int] = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        self.chunk_ids = np.load(path / "chunk_ids.npy", mmap_mode="r")
        self.first_sentence = np.load(path / "first_sentence.npy", mmap_mode="r")
        self.sentence_owner = np.load(path / "sentence_owner.npy", mmap_mode="r")
        self._sorted_ids = np.load(path / "sorted_ids.npy", mmap_mode="r")
        self._sorted_positions = np.load(path / "sorted_positions.npy", mmap_mode="r")
        self.passages = BM25Index.load(path / "passages", meta["passages"])
        self.sentences = BM25Index.load(path / "sentences", meta["sentences"])
        self._passage_scores = lru_cache(maxsize=SCORE_CACHE)(self.passages.scores)
        self._sentence_scores = lru_cache(maxsize=SCORE_CACHE)(self.sentences.scores)

    # Opening and building ------------------------------------------------------------------------------

    @classmethod
    def open(cls, index_dir: Path) -> Bm25Lexical | None:
        """The current generation, or None when none was built."""
        generation = current_generation(index_dir)
        return cls(Path(index_dir) / DIR_NAME / generation) if generation else None

    @classmethod
    def build(cls, index_dir: Path, chunks: Iterable[tuple[str, list[list[str]]]]) -> Bm25Lexical:
        """Build a new generation from (chunk id, terms per sentence) and make it current. The terms are
        gathered into compact arrays (one int32 per term occurrence); a passage's terms are its sentences'
        terms, so one array serves both levels."""
        root = Path(index_dir) / DIR_NAME
        path = root / uuid.uuid4().hex[:12]
        vocab: dict[str, int] = {"\0": _EMPTY}
        ids: list[bytes] = []
        terms, sentence_ends, first = array("i"), array("q", [0]), array("q", [0])
        for chunk_id, sentence_terms in chunks:
            ids.append(chunk_id.encode("ascii"))
            for sentence in sentence_terms:
                terms.extend(vocab.setdefault(t, len(vocab)) for t in sentence)
                sentence_ends.append(len(terms))
            first.append(len(sentence_ends) - 1)
        flat = np.frombuffer(terms, dtype=np.int32) if terms else np.zeros(0, dtype=np.int32)
        sentence_bounds = np.frombuffer(sentence_ends, dtype=np.int64)
        first_arr = np.frombuffer(first, dtype=np.int64).copy()
        path.mkdir(parents=True)
        BM25Index.build(flat, sentence_bounds[first_arr], len(vocab)).save(path / "passages")
        BM25Index.build(flat, sentence_bounds, len(vocab)).save(path / "sentences")
        del flat, terms, sentence_bounds, sentence_ends
        owner = np.repeat(np.arange(len(ids), dtype=np.int32), np.diff(first_arr))
        chunk_ids = np.asarray(ids, dtype=_ID_DTYPE)
        order = np.argsort(chunk_ids, kind="stable").astype(np.int32)
        for name, values in (
            ("chunk_ids", chunk_ids),
            ("first_sentence", first_arr),
            ("sentence_owner", owner),
            ("sorted_ids", chunk_ids[order]),
            ("sorted_positions", order),
        ):
            np.save(path / f"{name}.npy", values)
        (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        meta = {"passages": len(ids), "sentences": int(first_arr[-1])}
        (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        _switch(root, path.name)
        return cls(path)

    # Questions ----------------------------------------------------------------------------------------

    def search_passages(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        scores = self._passage_scores(self.term_ids(terms))
        return [(self.chunk_id(p), float(scores[p])) for p in _ranked(scores)[:limit]]

    def search_sentences(self, terms: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        scores = self._sentence_scores(self.term_ids(terms))
        found = []
        for s in _ranked(scores)[:limit]:
            owner = int(self.sentence_owner[s])
            found.append((self.chunk_id(owner), s - int(self.first_sentence[owner]), float(scores[s])))
        return found

    def sentence_scores(self, terms: Sequence[str], chunk_ids: Collection[str]) -> dict[str, list[float]]:
        scores = self._sentence_scores(self.term_ids(terms))
        found = {}
        for chunk_id in chunk_ids:
            position = self.position(chunk_id)
            if position is not None:
                first, stop = self.first_sentence[position], self.first_sentence[position + 1]
                found[chunk_id] = [float(x) for x in scores[first:stop]]
        return found

    def term_ids(self, terms: Iterable[str]) -> tuple[int, ...]:
        return tuple(self.vocab[t] for t in terms if t in self.vocab)

    def position(self, chunk_id: str) -> int | None:
        """Passage position of a chunk id (binary search over the sorted ids), None if not indexed."""
        key = chunk_id.encode("ascii", "replace")
        i = int(np.searchsorted(self._sorted_ids, key))
        if i < len(self._sorted_ids) and self._sorted_ids[i] == key:
            return int(self._sorted_positions[i])
        return None

    def chunk_id(self, position: int) -> str:
        return self.chunk_ids[position].decode("ascii")

    def contains(self, term: str) -> bool:
        return term in self.vocab and self.sentences.df(self.vocab[term]) > 0

    def idf(self, term: str) -> float:
        """BM25's idf over sentences; 0 for a term absent from every sentence."""
        df = self.sentences.df(self.vocab[term]) if term in self.vocab else 0
        n = self.sentences.size
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5))) if df else 0.0

    @property
    def max_idf(self) -> float:
        """The idf of a term found in a single sentence."""
        n = self.sentences.size
        return float(np.log(1 + (n - 0.5) / 1.5)) if n else 1.0


def _lucene_csc(terms: np.ndarray, bounds: np.ndarray, vocab_size: int) -> dict:
    """bm25s's score matrix (documents x terms, CSC: per term the documents holding it and their score),
    built a range of terms at a time so that the working arrays stay small (~50 MB, plus a byte per term
    occurrence for the mask that picks a range); the result is 8 bytes per (term, document) pair. An empty
    document holds the placeholder term once, as bm25s needs one term per document."""
    n_docs = len(bounds) - 1
    lengths = np.diff(bounds)
    empty = np.flatnonzero(lengths == 0)
    lengths = np.maximum(lengths, 1)
    norm = (K1 * ((1 - B) + B * lengths / lengths.mean())).astype(np.float32)
    occurrences = np.bincount(terms, minlength=vocab_size)
    occurrences[_EMPTY] += len(empty)
    data = np.empty(int(occurrences.sum()), dtype=np.float32)  # pairs <= occurrences: trimmed below
    indices = np.empty(len(data), dtype=np.int32)
    df = np.zeros(vocab_size, dtype=np.int64)
    filled = 0
    for first, stop in _term_ranges(occurrences, _RANGE_OCCURRENCES):
        where = np.flatnonzero((terms >= first) & (terms < stop))
        # One int64 key per occurrence, term-major: sorting groups each (term, document) pair in CSC order.
        keys = (terms[where].astype(np.int64) - first) * n_docs + np.searchsorted(bounds, where, "right") - 1
        if first == _EMPTY:
            keys = np.concatenate([keys, empty])
        pairs, tf = np.unique(keys, return_counts=True)
        term, doc = np.divmod(pairs, n_docs)
        df[first:stop] = np.bincount(term, minlength=stop - first)
        idf = np.log(1 + (n_docs - df[first:stop] + 0.5) / (df[first:stop] + 0.5)).astype(np.float32)
        tf = tf.astype(np.float32)
        data[filled : filled + len(pairs)] = idf[term] * tf / (norm[doc] + tf)
        indices[filled : filled + len(pairs)] = doc
        filled += len(pairs)
    indptr = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return {"data": data[:filled], "indices": indices[:filled], "indptr": indptr, "num_docs": n_docs}


_RANGE_OCCURRENCES = 1 << 20  # term occurrences handled at once: ~50 MB of working arrays


def _term_ranges(occurrences: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of term ids holding about `size` occurrences each (a commoner term alone)."""
    cumulative = np.cumsum(occurrences)
    first = 0
    while first < len(occurrences):
        before = cumulative[first - 1] if first else 0
        stop = max(int(np.searchsorted(cumulative, before + size, "right")), first + 1)
        yield first, stop
        first = stop


def _ranked(scores: np.ndarray) -> np.ndarray:
    """Positions by score, best first, positive scores only, ties in index order; only the HEAD best are
    sorted."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > HEAD:
        hits = hits[np.argpartition(-scores[hits], HEAD)[:HEAD]]
    return hits[np.argsort(-scores[hits], kind="stable")]


class Bm25Store:
    """The generations of the BM25 files under an index dir (a `LexicalStore`)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    def generation(self) -> str | None:
        return current_generation(self.index_dir)

    def open(self) -> Bm25Lexical | None:
        return Bm25Lexical.open(self.index_dir)

    def rebuild(self, chunks: Iterable[tuple[str, list[list[str]]]]) -> None:
        Bm25Lexical.build(self.index_dir, chunks)


def current_generation(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / DIR_NAME / CURRENT).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _switch(root: Path, generation: str) -> None:
    """Make `generation` current (atomic rename), then drop all but it and the one before it: a reader
    that opened the previous one keeps its memory maps."""
    previous = current_generation(root.parent)
    tmp = root / f"{CURRENT}.tmp"
    tmp.write_text(generation, encoding="ascii")
    os.replace(tmp, root / CURRENT)
    for old in root.iterdir():
        if old.is_dir() and old.name not in (generation, previous):
            shutil.rmtree(old, ignore_errors=True)
