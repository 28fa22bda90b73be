"""Nobody reaches what is not theirs: every page and API route, walked with every role.

The routes come from the URL resolver (pages, the DRF router, admin), so a route added
later is walked without being listed here. For each route that names a row, the walker
puts in the id of a row from alice's book and proves:

- bob (another CSM) and mallory (manager of another team) get 404/403 on read, and
  404/403/405 on POST/PUT/PATCH/DELETE with the database unchanged;
- rita (read-only) reads what alice reads and writes nothing (403/404/405, database unchanged);
- carol (manager of alice's team) reads what alice reads.

Routes without a row id (lists, dashboards, forms) must not show alice's rows to bob or
mallory, and their writes change nothing alice owns. Admin pages turn every non-staff
user away. A route the walker cannot fill in fails ``test_every_route_is_walked``
until it is taught (``OBJECTS``) or exempted with a reason (``EXEMPT``).
"""

import json
import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client
from django.utils import timezone

from tests.security.conftest import MARKER, SEARCH_WORD
from tests.security.routes import Route, all_routes, models_by_name, path_to_account, url_for

pytestmark = pytest.mark.django_db

# Routes that no role check applies to, with the reason.
EXEMPT: dict[str, str] = {
    "admin:login": "the admin sign-in form itself; shows no data",
    "admin:logout": "signing out of the admin is open to anyone signed in; shows no data",
    # A notice's recipient opens these without an account; the signed token is the access check
    # (tests/renewals/test_answers.py, test_unsubscribe.py: tampered and expired tokens change nothing).
    "renewals-public:answer": "recipient's signed answer link; no sign-in by design",
    "renewals-public:unsubscribe": "recipient's signed unsubscribe link (RFC 8058 one-click); no sign-in by design",
    # A survey's recipient and a contact given the customer page open these without an account; the
    # signed token is the access check (tests/surveys/test_answer_links.py, tests/portal/: tampered,
    # expired and withdrawn links are refused).
    "surveys-public:answer": "recipient's signed survey answer link; no sign-in by design",
    "portal-public:page": "the contact's signed, expiring, revocable customer-page link; no sign-in by design",
    "portal-public:statement-pdf": "the same link's statement PDF; no sign-in by design",
    # Django's own reset link: the signed uid and token are the access check (test_passwords_and_sessions.py).
    "password_reset_confirm": "the emailed password-reset link; no sign-in by design, shows no data",
    "notifications:settings": "each user's own digest preference, keyed by request.user; no one else's row",
    "notifications:mark-read": "marks only request.user's own notifications read; no one else's row",
}


def alices_import(book: SimpleNamespace) -> models.Model:
    return apps.get_model("imports", "ImportJob").objects.create(
        kind="usage", created_by=book.users["alice"], file_name=f"{MARKER}.csv", content="", status="validated"
    )


# Routes whose row parameters the generic rules below cannot name: {route: {parameter: book → row}}.
def alices_answer(book: SimpleNamespace) -> models.Model:
    return apps.get_model("renewals", "RenewalAnswer").objects.create(
        renewal=book.renewal,
        notice=book.notice,
        kind="wrong_person",
        named_name=MARKER,
        named_email="named@acme.test",
        named_role="is_billing",
        answered_at=timezone.now(),
    )


def alices_queued_notice(book: SimpleNamespace) -> models.Model:
    """Alice's notice waiting in the approval queue (renewals/approvals.py)."""
    notice = book.notice
    type(notice).objects.filter(pk=notice.pk).update(status="awaiting_approval")
    notice.refresh_from_db()
    return notice


def alices_token(book: SimpleNamespace) -> models.Model:
    from csm import tokens

    return tokens.create_token(user=book.users["alice"], name=MARKER, expires_on=None, now=timezone.now())[0]


def alices_customer_link(book: SimpleNamespace) -> models.Model:
    now = timezone.now()
    return apps.get_model("portal", "CustomerLink").objects.create(
        account=book.account,
        contact=book.contact,
        created_by=book.users["alice"],
        created_at=now,
        expires_at=now + timedelta(days=30),
    )


def alices_survey_response(book: SimpleNamespace) -> models.Model:
    survey = apps.get_model("surveys", "Survey").objects.create(
        account=book.account, kind="nps", occasion=f"nps:{MARKER}", created_on=book.today
    )
    invite = survey.invites.create(contact=book.contact, email=book.contact.email)
    return apps.get_model("surveys", "SurveyResponse").objects.create(
        invite=invite,
        account=book.account,
        contact=book.contact,
        kind="nps",
        score=9,
        comment=f"{MARKER} comment",
        answered_at=timezone.now(),
        answered_on=book.today,
    )


OBJECTS: dict[str, dict[str, Callable[[SimpleNamespace], models.Model]]] = {
    "portal:link-revoke": {"pk": alices_customer_link},
    "customer-link-detail": {"pk": alices_customer_link},
    "customer-link-revoke": {"pk": alices_customer_link},
    "survey-response-detail": {"pk": alices_survey_response},
    "api-token-revoke": {"pk": alices_token},
    "renewals:renewal-answer-confirm": {"pk": alices_answer},
    "renewals:approval-notice": {"pk": alices_queued_notice},
    "imports:import-detail": {"pk": alices_import},
    "imports:import-run": {"pk": alices_import},
    "imports:import-mapping": {"pk": alices_import},
}
# Parameters that are fixed words, not rows: {route: {parameter: value}}.
LITERALS: dict[str, dict[str, str]] = {
    "imports:import-template": {"kind": "usage"},
}

PERSONAL_FIELDS = {"user", "created_by", "owner", "by"}
WRITES = ("post", "put", "patch", "delete")
DENIED = {403, 404}
# Tables that change by signing in or by the lockout bookkeeping, not by what a view does; and
# the change stamp, replaced after any write request that was not refused (csm/freshness.py).
VOLATILE_TABLES = {
    "django_session",
    # The caller's own sign-in record (csm/sessions.py), beside their session row.
    "csm_usersession",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "csm_changestamp",
}
# django-otp counts failed codes on the user's own device to slow guessing: bookkeeping, not a write.
VOLATILE_COLUMNS = {"last_login", "throttling_failure_timestamp", "throttling_failure_count"}


# --- Which row a parameter names ------------------------------------------------------


def model_from_name(name: str) -> type[models.Model] | None:
    """Guess a model from a URL name or parameter: 'success-plan-detail' → SuccessPlan."""
    known = models_by_name()
    tokens = [t for t in re.split(r"[-_:]", name.split(":")[-1]) if t]
    for end in range(len(tokens), 0, -1):
        for start in range(end):
            model = known.get("".join(tokens[start:end]).lower())
            if model is not None:
                return model
    # "import-detail" → ImportJob: a single model whose name starts with the first word.
    starting = [model for name, model in known.items() if tokens and name.startswith(tokens[0].lower())]
    return starting[0] if len(starting) == 1 else None


def model_from_segment(route: Route, parameter: str) -> type[models.Model] | None:
    """The model named by the path word before the parameter: 'accounts/<int:pk>/touchpoints/' → Account."""
    found = re.search(rf"<(?:\w+:)?{parameter}>|\(\?P<{parameter}>", route.pattern)
    before = route.pattern[: found.start()] if found else ""
    words = [w for w in re.split(r"[/^]", re.sub(r"<[^>]*>|\(\?P<[^)]*\)", "", before)) if w]
    if not words:
        return None
    word = words[-1].lower().replace("-", "").replace("_", "")
    known = models_by_name()
    candidates = (word, word.removesuffix("s"), f"{word.removesuffix('ies')}y")
    for candidate in candidates:
        if candidate in known:
            return known[candidate]
    for candidate in candidates:
        # "notices" → RenewalNotice, "rules" → PlaybookRule: the one model named ... + word.
        ending = [model for name, model in known.items() if name.endswith(candidate)]
        if len(ending) == 1:
            return ending[0]
    return None


def model_for_parameter(route: Route, parameter: str) -> type[models.Model] | None:
    if parameter in {"pk", "id", "object_id"}:
        return route.model or model_from_segment(route, parameter) or model_from_name(route.name)
    stem = re.sub(r"_(pk|id)$", "", parameter)
    if stem == "parent_lookup_account":
        stem = "account"
    return model_from_name(stem)


def row_of(book: SimpleNamespace, model: type[models.Model]) -> models.Model | None:
    """A row of ``model`` in alice's book (or, for configuration, any row)."""
    for value in vars(book).values():
        if isinstance(value, model):
            return value
    lookup = path_to_account(model)
    if lookup is not None:
        return model._default_manager.filter(**{lookup: book.account}).order_by("pk").first()
    # A row that belongs to a person rather than an account (an upload, a device): alice's.
    field = is_personal(model)
    if field:
        return model._default_manager.filter(**{field: book.users["alice"]}).order_by("pk").first()
    return model._default_manager.order_by("pk").first()


def is_personal(model: type[models.Model]) -> str | None:
    """The field naming the person a row belongs to, or None."""
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is get_user_model() and field.name in PERSONAL_FIELDS:
            return field.name
    return None


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def parameter_values(route: Route, book: SimpleNamespace) -> tuple[dict[str, str], models.Model | None]:
    """URL parameters naming alice's rows, and the row the route is about (the last one)."""
    values, target = {}, None
    for parameter in route.object_kwargs:
        if parameter in LITERALS.get(route.ident, {}):
            values[parameter] = LITERALS[route.ident][parameter]
            continue
        builder = OBJECTS.get(route.ident, {}).get(parameter)
        if builder is not None:
            row = builder(book)
        else:
            model = model_for_parameter(route, parameter)
            row = row_of(book, model) if model is not None else None
        if row is None:
            raise LookupError(f"{route.ident}: cannot name a row for <{parameter}>")
        values[parameter], target = url_value(row), row
    return values, target


def url_value(row) -> str:
    """A row's key as its URL names it: a composite key (a health score) is "<account>:<day>"."""
    if isinstance(row.pk, tuple):
        return ":".join(part.isoformat() if hasattr(part, "isoformat") else str(part) for part in row.pk)
    return str(row.pk)


def unresolvable(route: Route) -> str | None:
    """Why the walker cannot fill in ``route`` without a fixture, or None when it can."""
    for parameter in route.object_kwargs:
        if parameter in OBJECTS.get(route.ident, {}) or parameter in LITERALS.get(route.ident, {}):
            continue
        if model_for_parameter(route, parameter) is None:
            return f"<{parameter}> names no model (add it to OBJECTS or EXEMPT)"
    return None


# --- The database, before and after ---------------------------------------------------


def snapshot() -> dict[str, tuple]:
    state = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in VOLATILE_TABLES:
            continue
        fields = [f.attname for f in meta.concrete_fields if f.attname not in VOLATILE_COLUMNS]
        state[meta.db_table] = tuple(model._base_manager.order_by("pk").values_list(*fields))
    return state


def changed_tables(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    return sorted(table for table in before if before[table] != after.get(table))


# --- What a write sends ---------------------------------------------------------------

INPUT = re.compile(r"<input\b[^>]*>", re.I)
ATTR = re.compile(r'(\w[\w-]*)\s*=\s*"([^"]*)"')
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.I | re.S)
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.I | re.S)
OPTION = re.compile(r'<option\b[^>]*value="([^"]+)"', re.I)


def form_fields(html: str) -> dict[str, str]:
    """The fields of the forms on a page as alice sees it, text changed, to replay as someone else."""
    data = {}
    for tag in INPUT.findall(html):
        attrs = dict(ATTR.findall(tag))
        name, kind = attrs.get("name"), attrs.get("type", "text").lower()
        if not name or name == "csrfmiddlewaretoken" or kind in {"submit", "button", "file"}:
            continue
        if kind in {"checkbox", "radio"}:
            data[name] = attrs.get("value", "on")
        elif kind in {"text", "email", "search", "url", "tel", ""}:
            data[name] = f"{attrs.get('value', '')}-changed"
        else:
            data[name] = attrs.get("value") or "1"
    for name, text in TEXTAREA.findall(html):
        data[name] = f"{text}-changed"
    for name, options in SELECT.findall(html):
        values = [value for value in OPTION.findall(options) if value]
        if values:
            data[name] = values[-1]
    return data


def changed_payload(payload: object) -> object:
    """alice's own representation of a row with every text changed: a write that must not land."""
    if isinstance(payload, dict):
        return {key: f"{value}-changed" if isinstance(value, str) else value for key, value in payload.items()}
    return {}


def write_payload(route: Route, alice_response, target: models.Model | None) -> tuple[object, str | None]:
    content_type = alice_response.get("Content-Type", "")
    if route.is_api:
        payload = {}
        if "json" in content_type and alice_response.status_code == 200:
            payload = changed_payload(json.loads(alice_response.content))
        if not payload and target is not None:
            payload = {f.attname: str(getattr(target, f.attname)) for f in target._meta.concrete_fields}
            payload = changed_payload(payload)
        return json.dumps(payload), "application/json"
    if "html" in content_type and alice_response.status_code == 200:
        return form_fields(alice_response.content.decode(errors="replace")), None
    return {}, None


def send(client: Client, method: str, url: str, payload: object, content_type: str | None):
    call = getattr(client, method)
    if content_type:
        return call(url, data=payload, content_type=content_type)
    if method == "post":
        return call(url, data=payload)
    # Django's client sends PUT/PATCH/DELETE bodies verbatim; encode the form by hand.
    from urllib.parse import urlencode

    return call(url, data=urlencode(payload), content_type="application/x-www-form-urlencoded")


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# --- The routes -----------------------------------------------------------------------

ROUTES = [route for route in all_routes() if route.ident not in EXEMPT]
ADMIN = [route for route in ROUTES if route.is_admin]
SITE = [route for route in ROUTES if not route.is_admin and unresolvable(route) is None]


def names_a_row(route: Route) -> bool:
    return any(parameter not in LITERALS.get(route.ident, {}) for parameter in route.object_kwargs)


OBJECT_ROUTES = [route for route in SITE if route.object_kwargs and names_a_row(route)]
LIST_ROUTES = [route for route in SITE if not (route.object_kwargs and names_a_row(route))]


def ids(cases: list[tuple[Route, str]]) -> list[str]:
    return [f"{route.ident}|{who}" for route, who in cases]


def test_every_route_is_walked_or_exempt() -> None:
    missing = [
        f"{route.ident} ({route.pattern}): {why}"
        for route in ROUTES
        if not route.is_admin and (why := unresolvable(route))
    ]
    assert not missing, "The access walker cannot fill in these routes:\n" + "\n".join(missing)
    assert OBJECT_ROUTES
    assert LIST_ROUTES
    assert ADMIN


OBJECT_CASES = [(route, who) for route in OBJECT_ROUTES for who in ("bob", "mallory", "rita", "carol")]


@pytest.mark.parametrize(("route", "who"), OBJECT_CASES, ids=ids(OBJECT_CASES))
def test_a_row_of_alices_book_is_reached_only_by_those_allowed(route: Route, who: str, book) -> None:
    values, target = parameter_values(route, book)
    url = url_for(route, values)
    if target is not None and path_to_account(type(target)) is None and not is_personal(type(target)):
        check_configuration_is_not_written(route, who, url, book)
        return
    alice = signed_in(book.users["alice"]).get(url)
    assert alice.status_code < 500, f"{url} as alice: {alice.status_code}"
    assert alice.status_code not in DENIED, f"{url}: alice is refused her own row; the walker named the wrong row"
    client = signed_in(book.users[who])

    read = client.get(url)
    assert read.status_code < 500, f"GET {url} as {who}: {read.status_code}"
    # A person's own row (an upload) is theirs alone; an account's row is the team's too.
    personal = target is not None and bool(is_personal(type(target)))
    if alice.status_code == 200:
        if who in {"bob", "mallory"}:
            assert read.status_code in DENIED, f"GET {url} as {who}: {read.status_code}, expected 404/403"
            assert MARKER.encode() not in body(read)
        elif personal or (who == "rita" and read.status_code == 403):
            # A person's own row; or a form page that a read-only user may not even open.
            assert read.status_code in {200, *DENIED}, f"GET {url} as {who}: {read.status_code}"
        else:
            assert read.status_code == 200, f"GET {url} as {who}: {read.status_code}; alice's team/read-only may read"
    if who == "carol":
        return

    payload, content_type = write_payload(route, alice, target)
    missing_key = "987654321:2000-01-01" if isinstance(getattr(target, "pk", None), tuple) else "987654321"
    missing_url = url_for(route, {**values, route.object_kwargs[-1]: missing_key})
    before = snapshot()
    for method in WRITES:
        response = send(client, method, url, payload, content_type)
        if who != "rita" and response.status_code == 400:
            # Input checked before the row is looked up: fine while a missing row answers the same.
            missing = send(client, method, missing_url, payload, content_type)
            assert missing.status_code == 400, (
                f"{method.upper()} {url} as {who}: 400, but {missing.status_code} for a missing row"
            )
        else:
            assert response.status_code in {403, 404, 405}, f"{method.upper()} {url} as {who}: {response.status_code}"
    changed = changed_tables(before, snapshot())
    assert not changed, f"POST/PUT/PATCH/DELETE {url} as {who} changed {changed}"


def check_configuration_is_not_written(route: Route, who: str, url: str, book: SimpleNamespace) -> None:
    """Configuration rows are the admins': a CSM or a read-only user changes none of them."""
    client = signed_in(book.users[who])
    assert client.get(url).status_code < 500
    if who not in {"bob", "rita"}:
        return
    before = snapshot()
    for method in WRITES:
        response = send(client, method, url, {}, "application/json" if route.is_api else None)
        assert response.status_code in {400, 403, 404, 405}, f"{method.upper()} {url} as {who}: {response.status_code}"
    changed = changed_tables(before, snapshot())
    assert not changed, f"POST/PUT/PATCH/DELETE {url} as {who} changed {changed}"


LIST_CASES = [(route, who) for route in LIST_ROUTES for who in ("bob", "mallory", "rita")]


@pytest.mark.parametrize(("route", "who"), LIST_CASES, ids=ids(LIST_CASES))
def test_a_page_without_a_row_id_shows_nobody_else_alices_book_and_writes_nothing_for_them(
    route: Route, who: str, book
) -> None:
    values, _ = parameter_values(route, book)
    url = url_for(route, values)
    # Filters and searches aimed at alice's rows must not reach them either.
    query = {"q": SEARCH_WORD, "search": SEARCH_WORD, "account": book.account.pk, "account_id": book.account.pk}
    alice_view = signed_in(book.users["alice"]).get(url, query)
    client = signed_in(book.users[who])
    read = client.get(url, query)
    assert read.status_code < 500, f"GET {url} as {who}: {read.status_code}"
    if who != "rita":
        assert MARKER.lower().encode() not in body(read).lower(), f"GET {url} shows alice's book to {who}"

    model = route.model
    target = row_of(book, model) if model is not None else None
    payload, content_type = write_payload(route, alice_view, target)
    before = snapshot()
    for method in WRITES:
        response = send(client, method, url, payload, content_type)
        assert response.status_code < 500, f"{method.upper()} {url} as {who}: {response.status_code}"
        if who == "rita" and route.is_api:
            assert response.status_code in {403, 405}, f"{method.upper()} {url} as rita: {response.status_code}"
    changed = changed_tables(before, snapshot())
    assert not changed, f"POST/PUT/PATCH/DELETE {url} as {who} changed {changed}"


@pytest.mark.parametrize("route", ADMIN, ids=[route.ident for route in ADMIN])
def test_the_admin_turns_away_everyone_who_is_not_staff(route: Route, alice, bob, carol, rita) -> None:
    url = url_for(route, {})
    for user in (alice, bob, carol, rita):
        client = signed_in(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in {302, 403, 404}, f"{method.upper()} {url} as {user}: {response.status_code}"
            if response.status_code == 302:
                assert response.url.startswith("/admin/login/"), f"{url} as {user} went to {response.url}"
