"""Orchestration: Prefect flows and tasks, HTTP, notifications and artifacts."""
