"""Tasks only the tests use. The test worker loads this module with ``--include`` (tests/conftest.py)."""

from celery import shared_task


@shared_task
def add(x: int, y: int) -> int:
    return x + y
