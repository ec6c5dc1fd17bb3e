-- Documents of two kinds: guideline pages and primary literature (PubMed records). A record's bibliographic fields
-- (PMID, journal, authors, publication types, design level, conclusion) travel as JSON in `literature`; its PMID is
-- a column of its own so that a guideline reference finds the ingested abstract it cites.
ALTER TABLE documents ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'guideline';
ALTER TABLE documents ADD COLUMN pmid TEXT COLLATE "C";
ALTER TABLE documents ADD COLUMN literature TEXT COLLATE "C";
CREATE INDEX documents_by_pmid ON documents(pmid);
