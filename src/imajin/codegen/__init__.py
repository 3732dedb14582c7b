"""Files generated from imajin's own definitions for clients in other languages.

- :func:`openapi_document`: the server's OpenAPI document, built without serving.
- :mod:`imajin.codegen.typescript`: the TypeScript client's generated modules (its
  API types, the negative prompt terms and the size matrix), and the stale check.
"""

from imajin.codegen.openapi import openapi_document

__all__ = ["openapi_document"]
