from django.urls import path

from . import public_views

app_name = "renewals-public"

urlpatterns = [
    path("answer/<str:token>/", public_views.answer, name="answer"),
    path("unsubscribe/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
]
