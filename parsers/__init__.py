"""Pure parsing logic: bytes or text in, frozen dataclasses out. No network, no database."""
