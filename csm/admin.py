from django.contrib import admin
from django.http import HttpRequest

from .models import JobRun, SSOIdentity


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "day", "status", "started_at", "finished_at")
    list_filter = ("job", "status")
    date_hierarchy = "day"
    readonly_fields = ("job", "day", "status", "started_at", "finished_at", "detail")


@admin.register(SSOIdentity)
class SSOIdentityAdmin(admin.ModelAdmin):
    """Who signs in by SSO as which user; deleting a row unlinks it (the next sign-in links or makes a user)."""

    list_display = ("user", "subject", "issuer", "created_at", "last_sign_in_at")
    search_fields = ("user__username", "subject")
    readonly_fields = ("user", "issuer", "subject", "created_at", "last_sign_in_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
