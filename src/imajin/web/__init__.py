"""The gallery web UI: static HTML, CSS and JavaScript modules served at ``/``.

The API's web router (:mod:`imajin.api.routers.web`) serves ``index.html`` and
``static/`` from this package's data; the page
talks to the JSON API with the key the user typed in (kept in localStorage).
"""
