"""Every URL the project serves, found by walking the resolver, and a concrete address for each.

Used by the access-control walker: routes that other apps add later are covered without
anyone listing them here.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
ROUTE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern itself when the route has no name
    segments: tuple  # the resolver patterns from the root to this route
    callback: object

    @property
    def pattern(self) -> str:
        return "".join(str(segment) for segment in self.segments)

    @property
    def ident(self) -> str:
        return self.name if not self.name.endswith(":?") else f"{self.name[:-1]}{self.pattern}"

    @property
    def kwarg_names(self) -> list[str]:
        names = []
        for segment in self.segments:
            if isinstance(segment, RoutePattern):
                names += [match.group(2) for match in ROUTE_PARAM.finditer(str(segment))]
            else:
                names += NAMED_GROUP.findall(str(segment))
        return names

    @property
    def object_kwargs(self) -> list[str]:
        """The parameters that name a row (everything but the format suffix)."""
        return [name for name in self.kwarg_names if name != "format"]

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def model(self) -> type[models.Model] | None:
        """The model the view serves, read from a DRF viewset or a class-based view."""
        view = self.view_class
        if view is None:
            return None
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            return queryset.model
        model = getattr(view, "model", None)
        if model is not None:
            return model
        serializer = getattr(view, "serializer_class", None)
        meta = getattr(serializer, "Meta", None)
        return getattr(meta, "model", None)

    @property
    def actions(self) -> dict:
        """DRF's method → action map for a viewset route ({} for other views)."""
        return dict(getattr(self.callback, "actions", None) or {})


def _walk(patterns: list, segments: tuple = (), namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace
            full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(entry.url_patterns, (*segments, entry.pattern), full)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name or '?'}" if namespace else (entry.name or "?")
            yield Route(name=name, segments=(*segments, entry.pattern), callback=entry.callback)


def all_routes() -> list[Route]:
    """Every route, less DRF's format-suffix twins (``/api/x.json``): same view, same queryset."""
    return [route for route in _walk(get_resolver().url_patterns) if "format" not in route.kwarg_names]


def _fill_regex(text: str, values: dict[str, str]) -> str:
    """Replace each group of a regex route with a value; strip anchors and escapes."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("(", i):
            depth, j = 0, i
            while j < len(text):
                if text[j] == "\\":
                    j += 2
                    continue
                depth += text[j] == "("
                depth -= text[j] == ")"
                if depth == 0:
                    break
                j += 1
            group = text[i : j + 1]
            named = NAMED_GROUP.match(group)
            body = group[len(named.group(0)) : -1] if named else group[1:-1].removeprefix("?:")
            out.append(_value_for(values.get(named.group(1)) if named else None, body))
            i = j + 1
            continue
        if text.startswith("\\", i):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    filled = "".join(out).lstrip("^").rstrip("$")
    return filled.replace("/?", "/") if filled.endswith("/?") else filled


def _value_for(value: str | None, body: str) -> str:
    """``value`` when the group accepts it, else the first literal alternative, else '1'."""
    candidates = [value] if value is not None else []
    candidates += [alt for alt in body.split("|") if re.fullmatch(r"[\w.-]+", alt)] + ["1", "x"]
    for candidate in candidates:
        if re.fullmatch(body, candidate):
            return candidate
    return candidates[0]


def url_for(route: Route, values: dict[str, str]) -> str:
    """A concrete address for ``route`` with ``values`` for its parameters; checked by resolving it."""
    parts = []
    for segment in route.segments:
        if isinstance(segment, RegexPattern):
            parts.append(_fill_regex(segment._regex, values))
        else:
            text = str(segment)

            def param(match: re.Match, segment: RoutePattern = segment) -> str:
                converter = segment.converters[match.group(2)]
                value = values.get(match.group(2), ".json" if match.group(2) == "format" else "1")
                return value if re.fullmatch(converter.regex, value) else "1"

            parts.append(ROUTE_PARAM.sub(param, text))
    url = "/" + "".join(parts)
    try:
        match = resolve(url)
    except Resolver404:
        raise AssertionError(f"walker built {url!r} for {route.ident} but it does not resolve") from None
    if match.func is not route.callback and getattr(match.func, "__wrapped__", None) is not route.callback:
        # A catch-all earlier in the list (e.g. admin's) can shadow a route; that is fine
        # for access checks as long as the address is still served by the same area.
        assert route.is_admin, f"{url!r} resolves to {match.view_name}, not {route.ident}"
    return url


def models_by_name() -> dict[str, type[models.Model]]:
    """Model name (lower case, no underscores) → model, for guessing what a URL parameter names."""
    from django.conf import settings

    found = {}
    for model in apps.get_models():
        # The project's own models: third-party ones (celery beat's PeriodicTasks) have no pages here.
        inside = Path(model._meta.app_config.path).is_relative_to(settings.BASE_DIR)
        if inside and not model.__name__.startswith("Historical"):
            found.setdefault(model._meta.model_name, model)
    return found


def path_to_account(model: type[models.Model], depth: int = 4) -> str | None:
    """The lookup from ``model`` to its customer Account ('' for Account itself), or None."""
    from accounts.models import Account

    if model is Account:
        return ""
    frontier = [(model, "")]
    for _ in range(depth):
        following = []
        for current, prefix in frontier:
            for field in current._meta.get_fields():
                if not (field.is_relation and (field.many_to_one or field.one_to_one) and field.concrete):
                    continue
                lookup = f"{prefix}{field.name}"
                if field.related_model is Account:
                    return lookup
                following.append((field.related_model, f"{lookup}__"))
        frontier = following
    return None
