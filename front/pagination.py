"""Paging through a book of accounts without counting 100,000 rows on every page view."""

from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.core.paginator import Paginator

# A book this large has its unfiltered count cached: counting it costs tens of ms a page view,
# and one account more or less in "100,000 accounts" for a minute is not news. Smaller books,
# and every filtered list, are counted afresh.
LARGE_BOOK = 10_000
COUNT_TTL_SECONDS = 60


class BookPaginator(Paginator):
    """A Paginator that remembers a large count under ``count_key`` (None: always count)."""

    def __init__(self, *args: Any, count_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        if self.count_key is None:
            return super().count
        found = cache.get(self.count_key)
        if found is None:
            found = super().count
            if found >= LARGE_BOOK:
                cache.set(self.count_key, found, COUNT_TTL_SECONDS)
        return found
