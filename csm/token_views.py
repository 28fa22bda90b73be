"""The user's own API tokens: create one (shown once), see when each was last used, revoke one."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import tokens
from .models import ApiToken
from .requests import SignedInHttpRequest


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What will use it, e.g. “CRM sync”.")
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for a token that lasts until you revoke it.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: SignedInHttpRequest) -> HttpResponse:
    now = timezone.now()
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, created = tokens.create_token(
                user=request.user, name=form.cleaned_data["name"], expires_on=form.cleaned_data["expires_on"], now=now
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = TokenForm()
    rows = [(token, token.state(now)) for token in request.user.api_tokens.all()]
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "registration/tokens.html", {"form": form, "rows": rows, "created": created}, status=status)


@require_POST
def token_revoke(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke_token(token=token, by=request.user, now=timezone.now())
    messages.success(request, f"Revoked “{token.name}”. Anything still using it now gets 401.")
    return redirect("api-tokens")
