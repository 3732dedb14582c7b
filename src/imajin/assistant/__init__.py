"""S1 + S2 prompt assistant: pipelines, instance configuration, reasoning chain.

Filled by the prompt assistant issue (#6); empty until then."""
