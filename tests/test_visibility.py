import pytest

from accounts.models import Account

pytestmark = pytest.mark.django_db


def names(user) -> set[str]:
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_a_csm_sees_only_their_own_book(alice, bob, acme, globex) -> None:
    assert names(alice) == {"Acme"}
    assert names(bob) == {"Globex"}


def test_a_manager_sees_their_team_and_not_other_teams(carol, acme, globex) -> None:
    from tests.factories import AccountFactory, UserFactory

    AccountFactory(name="Initech", owner=UserFactory(username="zed"))
    assert names(carol) == {"Acme", "Globex"}


def test_read_only_sees_everything_and_may_change_nothing(rita, acme, globex) -> None:
    assert names(rita) == {"Acme", "Globex"}
    assert not Account.objects.editable_by(rita).exists()


def test_an_admin_sees_everything(admin_user, acme, globex) -> None:
    assert names(admin_user) == {"Acme", "Globex"}
