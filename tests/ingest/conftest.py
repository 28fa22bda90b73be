import pytest

from tests.api.conftest import api  # noqa: F401 (the token client fixture)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The cast's passwords are hashed per test; a fast hasher keeps these tests quick on a busy machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
