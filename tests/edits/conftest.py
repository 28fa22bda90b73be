import pytest

from playbooks.models import PlaybookRule
from tests.api.conftest import api  # noqa: F401 (the token client fixture)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def successor_rule() -> PlaybookRule:
    return PlaybookRule.objects.create(
        name="Contact left",
        trigger=PlaybookRule.Trigger.CONTACT_LEFT,
        task_title="Find the successor",
        due_in_days=3,
        enabled=True,
    )
