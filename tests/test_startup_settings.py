"""Production mode starts only when configured properly, and says what is wrong when not."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; production never has it.
    dropped = {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_passes_check_deploy_without_warnings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="csm.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_without_secret_key_fails_with_a_clear_message() -> None:
    result = manage("check", DJANGO_DEBUG="0", ALLOWED_HOSTS="csm.example.com")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable." in result.stderr


def test_a_weak_secret_key_is_refused() -> None:
    result = manage("check", DJANGO_DEBUG="0", SECRET_KEY="short", ALLOWED_HOSTS="csm.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_a_database_url_of_the_wrong_kind_fails_with_a_clear_message() -> None:
    result = manage("check", DATABASE_URL="mysql://root@localhost/csm")
    assert result.returncode != 0
    assert "DATABASE_URL must start with postgresql:// or sqlite://" in result.stderr


def test_an_unreachable_database_fails_the_start_check_with_a_clear_message() -> None:
    result = manage("check", "--database", "default", DATABASE_URL="postgresql://postgres@127.0.0.1:1/csm")
    assert result.returncode != 0
    assert "Cannot connect to the postgresql database csm at 127.0.0.1:1" in result.stderr
