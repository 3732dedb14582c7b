"""LLM client abstraction and backends (local GGUF, llama.cpp, OpenAI-compatible, scripted).

Filled by the prompt assistant issue (#6); empty until then."""
