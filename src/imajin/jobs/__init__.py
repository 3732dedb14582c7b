"""Durable jobs: lifecycle, bounded admission, priorities, local and Celery dispatch.

Filled by the jobs issue (#4); empty until then."""
