from django.urls import path

from . import audit, views

app_name = "front"

urlpatterns = [
    path("", views.today, name="today"),
    path("today/charts/", views.today_charts, name="today-charts"),
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/export.csv", views.account_export, name="account-export"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/touchpoints/", views.log_touchpoint, name="touchpoint-log"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account-edit"),
    path("accounts/<int:pk>/contacts/", views.contact_add, name="contact-add"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/successor/", views.contact_successor, name="contact-successor"),
    path("audit/", audit.audit_log, name="audit-log"),
]
