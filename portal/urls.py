from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("accounts/<int:account_pk>/links/", views.link_create, name="link-create"),
    path("links/<int:pk>/revoke/", views.link_revoke, name="link-revoke"),
]
