"""Production creates no demo users: the compose file's start-up steps, run for real, leave only
the admin named by the environment, and the demo seed refuses to run with DEBUG off."""

import shlex
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounts.models import Account

pytestmark = pytest.mark.django_db

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _manage_steps() -> list[list[str]]:
    """The ``python manage.py …`` steps of the web service's command, in order."""
    compose = yaml.safe_load(COMPOSE.read_text())
    web = compose["services"]["web"]
    assert web["environment"]["DJANGO_DEBUG"] == "0"
    script = shlex.split(web["command"])[-1]  # sh -c "<script>"
    steps = [shlex.split(step) for step in script.split("&&")]
    return [step[2:] for step in steps if step[:2] == ["python", "manage.py"]]


def _run_compose_start(settings, monkeypatch, **env: str) -> None:
    settings.DEBUG = False
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    steps = _manage_steps()
    assert [step[0] for step in steps] == ["check", "migrate", "ensure_admin"]
    for name, *args in steps:
        if name in ("check", "migrate"):
            continue  # the test database is migrated and checked already
        call_command(name, *args)


def test_the_production_start_creates_no_user_without_admin_variables(settings, monkeypatch) -> None:
    monkeypatch.delenv("CSM_ADMIN_USERNAME", raising=False)
    _run_compose_start(settings, monkeypatch)
    assert not User.objects.exists()
    assert not Account.objects.exists()


def test_the_production_start_creates_only_the_admin_named_by_the_environment(settings, monkeypatch) -> None:
    env = {
        "CSM_ADMIN_USERNAME": "root",
        "CSM_ADMIN_EMAIL": "root@example.test",
        "CSM_ADMIN_PASSWORD": "x7-long-phrase-ok",
    }
    _run_compose_start(settings, monkeypatch, **env)
    _run_compose_start(settings, monkeypatch, **{**env, "CSM_ADMIN_PASSWORD": "another-phrase-99"})
    assert list(User.objects.values_list("username", "is_superuser")) == [("root", True)]
    assert User.objects.get().check_password("x7-long-phrase-ok")  # the second start changed nothing


def test_ensure_admin_refuses_a_weak_password(settings, monkeypatch) -> None:
    with pytest.raises(CommandError, match="CSM_ADMIN_PASSWORD"):
        _run_compose_start(settings, monkeypatch, CSM_ADMIN_USERNAME="root", CSM_ADMIN_PASSWORD="password")
    assert not User.objects.exists()


def test_seed_demo_refuses_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=0"):
        call_command("seed_demo", accounts=3)
    assert not User.objects.exists()


def test_seed_demo_runs_with_debug_off_only_when_forced(settings) -> None:
    settings.DEBUG = False
    call_command("seed_demo", accounts=3, allow_production=True)
    assert Account.objects.filter(handoffs__isnull=True).count() == 3  # plus the demo handoffs
