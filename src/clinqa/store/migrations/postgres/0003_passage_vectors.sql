-- Each passage's vector, searched in the database (pgvector HNSW, cosine): a worker process holds no vectors.
-- A passage's row is written with the passage (same transaction) and goes with it; `document_id` lets a search
-- keep to some documents (with `hnsw.iterative_scan`, so a filtered search still returns what it asks for).
-- Rows for passages stored before this migration are filled from `embeddings` when the search index is rebuilt.
CREATE TABLE passage_vectors (
    passage_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    document_id TEXT COLLATE "C" NOT NULL,
    model       TEXT COLLATE "C" NOT NULL,
    vector      vector(384) NOT NULL
);
CREATE INDEX passage_vectors_by_cosine ON passage_vectors USING hnsw (vector vector_cosine_ops);
CREATE INDEX passage_vectors_by_document ON passage_vectors(document_id);

-- The embeddings table is a cache keyed by text (every model's, and texts no passage has any more): nothing searches
-- it by similarity, so its HNSW index only cost every insert.
DROP INDEX embeddings_by_cosine;
