"""Pydantic models for every form: what the screens send to the services."""
