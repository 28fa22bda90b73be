from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("count/", views.unread_count, name="count"),
    path("read/", views.mark_read, name="mark-read"),
    path("settings/", views.settings_page, name="settings"),
]
