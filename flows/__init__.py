"""Orchestration: Prefect flows and tasks, HTTP, notifications, artifacts and the CLI."""
