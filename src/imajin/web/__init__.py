"""The gallery web UI: static HTML, CSS and JavaScript modules served at ``/``.

Filled by the batch studio issue (#7); empty until then.
"""
