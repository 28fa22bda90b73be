"""``csm.urlcache.reverse`` gives what Django's ``reverse`` gives, for every named URL."""

import pytest
from django.urls import get_resolver, reverse

from csm import urlcache


def named_routes() -> list[tuple[str, int]]:
    """Every URL name (with its namespace) and how many arguments its pattern takes."""
    routes = []

    def walk(resolver, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern, namespace)
            elif pattern.name:
                routes.append((prefix + pattern.name, pattern.pattern.regex.groups))

    walk(get_resolver(), "")
    return routes


@pytest.mark.parametrize("number", [1, 42, 987654321])
def test_every_named_url_reverses_as_django_does(number) -> None:
    checked = 0
    for name, arity in named_routes():
        args = [number] * arity
        try:
            expected = reverse(name, args=args)
        except Exception:
            with pytest.raises(Exception):  # noqa: B017, PT011
                urlcache.reverse(name, args=args)
            continue
        assert urlcache.reverse(name, args=args) == expected, name
        assert urlcache.reverse(name, args=[str(number)] * arity) == expected, name
        checked += 1
    assert checked > 40


def test_text_and_keyword_arguments_go_to_django() -> None:
    assert urlcache.reverse("front:account-detail", kwargs={"pk": 7}) == reverse(
        "front:account-detail", kwargs={"pk": 7}
    )
    with pytest.raises(Exception):  # noqa: B017, PT011
        urlcache.reverse("front:account-detail", args=["not-a-number"])


def test_a_changed_script_prefix_changes_the_url() -> None:
    from django.urls import set_script_prefix

    plain = urlcache.reverse("front:account-detail", args=[5])
    set_script_prefix("/csm/")
    try:
        assert urlcache.reverse("front:account-detail", args=[5]) == "/csm" + plain
    finally:
        set_script_prefix("/")
