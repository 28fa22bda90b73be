"""Oversized requests are refused before anything reads them into memory."""

import json

import pytest
from django.test import Client

from tests.security.routes import all_routes, url_for

pytestmark = pytest.mark.django_db

LIMIT = 2048


def accepts_post(route) -> bool:
    view = route.view_class
    if route.actions:
        return "post" in route.actions
    return view is not None and hasattr(view, "post") and route.is_api and route.name not in {"api-schema"}


POST_ROUTES = [route for route in all_routes() if route.is_api and not route.object_kwargs and accepts_post(route)]


def test_an_oversized_form_post_is_refused_with_400(settings, alice) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    response = Client().post("/login/", {"username": "alice", "password": "x" * (LIMIT * 2)})
    assert response.status_code == 400
    assert response.wsgi_request.user.is_anonymous


def test_the_limit_is_set_in_settings() -> None:
    from django.conf import settings

    assert 0 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024


@pytest.mark.parametrize("route", POST_ROUTES or [None], ids=[r.ident for r in POST_ROUTES] or ["no-api-post-route"])
def test_an_oversized_api_post_is_refused_and_changes_nothing(route, settings, alice) -> None:
    from tests.security.test_access_walk import changed_tables, snapshot

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    client = Client()
    client.force_login(alice)
    url = url_for(route, {}) if route else "/api/"
    body = json.dumps({"rows": ["x" * 100] * (LIMIT // 50)})
    before = snapshot()
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code in ({400, 413} if route else {400, 405, 413})
    assert not changed_tables(before, snapshot())
