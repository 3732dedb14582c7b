"""Built-in LLM backends, one module per technology; each imports its library on first use."""
