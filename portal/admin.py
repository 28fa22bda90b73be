from django.contrib import admin

from .models import CustomerLink, CustomerLinkView


@admin.register(CustomerLink)
class CustomerLinkAdmin(admin.ModelAdmin):
    list_display = ("account", "contact", "created_by", "created_at", "expires_at", "revoked_at")
    raw_id_fields = ("account", "contact")


@admin.register(CustomerLinkView)
class CustomerLinkViewAdmin(admin.ModelAdmin):
    list_display = ("link", "what", "viewed_at", "ip")
    raw_id_fields = ("link",)
