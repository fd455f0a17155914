"""Ingestion: the corpus folder, document formats, chunking, and the sync that keeps the index in step."""
