"""Benchmarks: Vigie against lemon24/reader, storage scaling, profiles (see bench/README.md)."""
