"""HTTP for Vigie: the SSRF guard, bounded decoding and the fetcher (no flows, no database)."""
