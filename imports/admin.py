from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("file_name", "kind", "created_by", "status", "total_rows", "created_at")
    list_filter = ("kind", "status")
    exclude = ("content",)
