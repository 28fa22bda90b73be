"""After every successful write request, the page fragments cached for the books it may have
changed are computed afresh (csm/freshness.py). It lives here, not in csm, because which books a
user may change is a question about accounts."""

from django.http import HttpRequest, HttpResponse

from csm import freshness

from .models import visible_owner_ids


def editable_owner_ids(user) -> list[int] | None:
    """The owners whose books a write by ``user`` may change (None: any book)."""
    return visible_owner_ids(user) if user.is_authenticated else None


class BumpOnWriteMiddleware:
    """After every write request that succeeded, replace the stamps of the books it may change."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in freshness.SAFE_METHODS or response.status_code >= 400:
            return response
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in freshness.SIGN_IN_VIEWS:
            return response  # signing in or out changes no book (and a failed try is answered 200)
        freshness.bump(editable_owner_ids(request.user))
        return response
