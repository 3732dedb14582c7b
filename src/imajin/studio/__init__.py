"""S4 batch studio: card sets (YAML + CSV), batches of one job per row, single
generations, studio outputs and their runtime-editable defaults.

- :mod:`~imajin.studio.sets` / :mod:`~imajin.studio.catalog`: load and check sets;
- :mod:`~imajin.studio.service`: start batches and single generations;
- :mod:`~imajin.studio.handler`: the ``batch_item`` and ``generate`` job kinds;
- :mod:`~imajin.studio.outputs`: where images, sidecars and thumbnails go;
- :mod:`~imajin.studio.repository`: batch rows and their jobs' state;
- :mod:`~imajin.studio.runtime_config`: ``GET/PUT /api/config``;
- :mod:`~imajin.studio.themes`: ``GET /api/themes/random``.

LoRA training lives beside the engine, in :mod:`imajin.training`.
"""
