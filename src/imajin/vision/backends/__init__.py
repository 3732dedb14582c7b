"""Built-in face detectors, one module per technology."""
