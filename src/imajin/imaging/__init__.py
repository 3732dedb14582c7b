"""Size matrix, safe-zone crop planning, resize/crop/encode with pyvips.

Filled by the variations issue (#5); empty until then."""
