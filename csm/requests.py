"""Request types for views behind sign-in.

csm.middleware.LoginRequiredMiddleware and csm.permissions.RolePermission turn away anonymous
requests before any page or API view runs, so inside a view `request.user` is a signed-in User.
These classes only tell the type checker so; they are never instantiated."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request


class SignedInHttpRequest(HttpRequest):
    user: User


class SignedInRequest(Request):
    user: User
