"""Face detection and feature extraction for selfie → avatar profiles.

Filled by the gateway work (SPEC §6); empty until then."""
