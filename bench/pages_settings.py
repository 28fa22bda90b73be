"""The app's settings plus the naive baseline pages the page benchmark compares against."""

from csm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.naive_pages"
