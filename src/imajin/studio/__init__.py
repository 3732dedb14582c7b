"""S4 batch studio: card sets (YAML + CSV), batch planning, themes, LoRA training.

Filled by the batch studio issue (#7); empty until then."""
