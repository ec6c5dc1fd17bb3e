"""The derived search index: BM25 terms, passage vectors and the expansion vocabulary.

It is rebuilt from the store after an ingest and saved beside the database as plain files (bm25s arrays,
`vectors.npy`, JSON), written to a staging folder and swapped in whole. `meta.json` records the store
generation it reflects, so a stale index is detected and rebuilt rather than trusted.

Several processes may share one knowledge base (an ingest while the web app answers): a save holds an exclusive
`flock` on `<index>.lock` beside the folder, a load a shared one, so no load sees a half-swapped folder and no
two saves swap at once. Staging and retired folders have names of their own (`.<index>.staging-*`,
`.<index>.old-*`); a save first removes those a killed process left behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from clinqa.readings import embedding_key, embedding_text, lexical_text
from clinqa.retrieve.analysis import analyze
from clinqa.retrieve.glossary import build_glossary
from clinqa.retrieve.specificity import corpus_specificity
from clinqa.retrieve.vectors import PassageVectors, VectorsInDatabase, VectorsInMemory, VectorStore
from clinqa.retrieve.vocabulary import Vocabulary, build_vocabulary, drug_dictionary
from clinqa.store import Store
from clinqa.types import Passage

EncodeFn = Callable[[list[str]], np.ndarray]
FORMAT_VERSION = 5
DRUG_NAMES = "drug_names.json"
BM25_K1, BM25_B = 0.9, 0.4


@dataclass
class SearchIndex:
    generation: int
    model: str
    passage_ids: list[str]
    document_ids: list[str]
    passage_document: np.ndarray  # int32: position in document_ids, per passage
    bm25: bm25s.BM25
    vectors: PassageVectors  # in memory (SQLite), or searched in the database (PostgreSQL)
    vocabulary: Vocabulary

    @property
    def size(self) -> int:
        return len(self.passage_ids)


def build_index(
    store: Store,
    model: str,
    vectors_for: Callable[[list[str]], np.ndarray],
    generation: int,
    in_database: VectorStore | None = None,
) -> SearchIndex:
    """The index of the store's passages. `in_database`: the store searches the vectors itself (each passage's
    vector is linked there, those stored before its vector table existed included), so none are loaded here."""
    summaries = store.documents()
    titles = {d.id: d.title for d in summaries}
    passages = list(store.iter_passages())
    document_ids = sorted(titles)
    position = {d: i for i, d in enumerate(document_ids)}
    lexical = [lexical_text(p, titles[p.document_id]) for p in passages]
    terms = analyze(lexical)
    bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    if passages:
        bm25.index(terms, show_progress=False)
    vocabulary = build_vocabulary((p.text for p in passages), _plain_terms(passages), drug_dictionary())
    vocabulary.definitions = build_glossary(passages, {d.id for d in summaries if d.audience == "patient"})
    vocabulary.specificity = corpus_specificity(lexical)
    embedding_texts = [embedding_text(p, titles[p.document_id]) for p in passages]
    passage_document = np.array([position[p.document_id] for p in passages], dtype=np.int32)
    vectors: PassageVectors
    if in_database is not None:
        in_database.link_passage_vectors(
            model, {p.id: embedding_key(t) for p, t in zip(passages, embedding_texts, strict=True)}
        )
        vectors = VectorsInDatabase(in_database, model, [p.id for p in passages], passage_document, document_ids)
    else:
        vectors = VectorsInMemory(vectors_for(embedding_texts))
    return SearchIndex(
        generation=generation,
        model=model,
        passage_ids=[p.id for p in passages],
        document_ids=document_ids,
        passage_document=passage_document,
        bm25=bm25,
        vectors=vectors,
        vocabulary=vocabulary,
    )


class VectorSource:
    """Looks up stored passage vectors and computes any that are missing."""

    def __init__(self, store: Store, model: str, encode: EncodeFn) -> None:
        self.store, self.model, self.encode = store, model, encode

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [embedding_key(t) for t in texts]
        stored = self.store.embeddings(self.model, keys)
        missing = [i for i, k in enumerate(keys) if k not in stored]
        fresh = self.encode([texts[i] for i in missing]) if missing else None
        rows = [np.frombuffer(stored[k], dtype=np.float16) if k in stored else None for k in keys]
        if fresh is not None:
            for j, i in enumerate(missing):
                rows[i] = fresh[j].astype(np.float16)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(rows).astype(np.float32)  # type: ignore[arg-type]


def _plain_terms(passages: Iterable[Passage]) -> set[str]:
    words: set[str] = set()
    for p in passages:
        words.update(w.strip(".,;:()[]").lower() for w in p.text.split())
    return words


def save_index(index: SearchIndex, directory: Path) -> None:
    """Write the index to `directory`, replacing the one there in a single rename, under the index lock."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _index_lock(directory, fcntl.LOCK_EX):
        remove_leftovers(directory)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.staging-", dir=directory.parent))
        try:
            _write_files(index, staging)
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            if directory.exists():
                directory.rename(retired / "index")  # a crash here leaves no index: the next load rebuilds it
            staging.rename(directory)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def remove_leftovers(directory: Path) -> None:
    """Staging and retired folders of `directory` that a killed save left behind; call with the lock held."""
    prefixes = (f".{directory.name}.staging-", f".{directory.name}.old-")
    for entry in directory.parent.iterdir():
        ours = entry.name.startswith(prefixes) or entry.name == f"{directory.name}.old"  # older versions' name
        if ours and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)


def _write_files(index: SearchIndex, staging: Path) -> None:
    if index.size:  # bm25s cannot save an index of nothing
        index.bm25.save(str(staging / "bm25"), show_progress=False)
    if isinstance(index.vectors, VectorsInMemory):
        np.save(staging / "vectors.npy", index.vectors.matrix.astype(np.float16), allow_pickle=False)
    np.save(staging / "passage_document.npy", index.passage_document, allow_pickle=False)
    _write_json(staging / "passages.json", {"passage_ids": index.passage_ids, "documents": index.document_ids})
    _write_json(staging / "vocabulary.json", index.vocabulary.to_json())
    # Every drug name variant, for normalising what a patient received (which the corpus may never name).
    _write_json(staging / DRUG_NAMES, drug_dictionary())
    _write_json(
        staging / "meta.json", _meta(index.generation, index.model, isinstance(index.vectors, VectorsInDatabase))
    )


def _meta(generation: int, model: str, in_database: bool) -> dict[str, object]:
    """What an index records of itself; an index whose vectors live in the database says so."""
    meta: dict[str, object] = {"format": FORMAT_VERSION, "generation": generation, "model": model}
    return {**meta, "vectors": "database"} if in_database else meta


@contextmanager
def _index_lock(directory: Path, mode: int) -> Iterator[None]:
    """The index's file lock (exclusive to save, shared to load), held for the block.

    Where the lock file cannot be made (a read-only folder), a load goes ahead unlocked: nobody can save there.
    """
    lock_path = directory.with_name(directory.name + ".lock")
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        if mode == fcntl.LOCK_EX:
            raise
        yield
        return
    try:
        fcntl.flock(descriptor, mode)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def load_index(
    directory: Path, generation: int, model: str, in_database: VectorStore | None = None
) -> SearchIndex | None:
    """The saved index if it reflects this store generation and model, else None."""
    with _index_lock(directory, fcntl.LOCK_SH):
        return _load(directory, generation, model, in_database)


def _load(directory: Path, generation: int, model: str, in_database: VectorStore | None) -> SearchIndex | None:
    try:
        meta = json.loads((directory / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta != _meta(generation, model, in_database is not None):
        return None
    listing = json.loads((directory / "passages.json").read_text())
    passage_document = np.load(directory / "passage_document.npy", allow_pickle=False)
    vectors: PassageVectors
    if in_database is not None:
        vectors = VectorsInDatabase(in_database, model, listing["passage_ids"], passage_document, listing["documents"])
    else:
        vectors = VectorsInMemory(np.load(directory / "vectors.npy", allow_pickle=False).astype(np.float32))
    return SearchIndex(
        generation=generation,
        model=model,
        passage_ids=listing["passage_ids"],
        document_ids=listing["documents"],
        passage_document=passage_document,
        bm25=(
            bm25s.BM25.load(str(directory / "bm25"), mmap=True, show_progress=False, verbosity=0)
            if listing["passage_ids"]
            else bm25s.BM25()
        ),
        vectors=vectors,
        vocabulary=Vocabulary.from_json(json.loads((directory / "vocabulary.json").read_text())),
    )


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def load_drug_names(directory: Path) -> dict[str, str] | None:
    """The full drug-name dictionary saved with the index (variant -> generic), if there is one."""
    try:
        with _index_lock(directory, fcntl.LOCK_SH):
            data = json.loads((directory / DRUG_NAMES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()}
