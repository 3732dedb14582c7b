"""API keys: the rules (``service.KeysService``) over the stored hashes (``store.api_keys``)."""
