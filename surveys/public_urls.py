from django.urls import path

from . import public_views

app_name = "surveys-public"

urlpatterns = [path("<str:token>/", public_views.answer, name="answer")]
