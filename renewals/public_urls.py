from django.urls import path

from . import public_views

app_name = "renewals-public"

urlpatterns = [
    path("unsubscribe/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
]
