"""One page under load: BENCH_PATH, each simulated user signed in with its own session: one of
the comma-separated BENCH_COOKIES, each the Cookie header of one browser (see bench_pages.py)."""

import itertools
import os

from locust import HttpUser, between, constant, task

THINK = os.environ.get("BENCH_THINK", "1") == "1"
COOKIES = itertools.cycle(os.environ["BENCH_COOKIES"].split(","))


class PageUser(HttpUser):
    wait_time = between(0.5, 1.5) if THINK else constant(0)

    def on_start(self) -> None:
        for cookie in next(COOKIES).split("; "):
            name, value = cookie.split("=", 1)
            self.client.cookies.set(name, value)

    @task
    def page(self) -> None:
        # Anything but a 200 (a redirect to sign-in, an error) counts as a failure.
        with self.client.get(
            os.environ["BENCH_PATH"], name="page", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
