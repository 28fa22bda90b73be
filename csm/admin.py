from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from . import tokens
from .models import ApiToken, JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "day", "status", "started_at", "finished_at")
    list_filter = ("job", "status")
    date_hierarchy = "day"
    readonly_fields = ("job", "day", "status", "started_at", "finished_at", "detail")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their user (the API tokens page) or `manage.py create_api_token`;
    the admin sees them and can revoke them, never their secret (only a digest is kept)."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    )
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke_token(token=token, by=request.user, now=now)  # type: ignore[arg-type]
