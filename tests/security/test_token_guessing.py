"""Guessing API tokens from one address is throttled: after 20 wrong tokens, 429s (hole 4)."""

import secrets

import pytest
from rest_framework.test import APIClient

from tests.factories import api_token

pytestmark = pytest.mark.django_db


def test_wrong_tokens_from_one_address_end_in_429_even_for_a_right_one(alice) -> None:
    client = APIClient()
    answers = []
    for _ in range(30):
        client.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(20)}")
        answers.append(client.get("/api/accounts/").status_code)
    assert answers[:20] == [401] * 20
    assert set(answers[20:]) == {429}
    client.credentials(HTTP_AUTHORIZATION=f"Token {(token := api_token(alice))}")
    assert client.get("/api/accounts/").status_code == 429
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert other.get("/api/accounts/").status_code == 200
