"""Normalizers: raw source payloads → canonical rows (`goszakup`), and the writer that upserts them."""
