"""S5 gateway flows: chat/shorts/scenes images, profiles, endpoint policies.

Filled by the gateway work (SPEC §6); empty until then."""
