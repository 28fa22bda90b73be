from django.contrib import admin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "day", "status", "started_at", "finished_at")
    list_filter = ("job", "status")
    date_hierarchy = "day"
    readonly_fields = ("job", "day", "status", "started_at", "finished_at", "detail")
