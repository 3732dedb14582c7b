"""Typed HTTP client (sync and async) for every endpoint.

Filled by the prompt assistant issue (#6) and extended by later issues."""
