"""Retrieval: analysis, expansion, indexes and hybrid search."""
