"""The gallery web UI: static HTML, CSS and JavaScript modules served at ``/``.

``router.py`` serves ``index.html`` and ``static/`` from package data; the page
talks to the JSON API with the key the user typed in (kept in localStorage).
"""
