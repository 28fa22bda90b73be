from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("contacts/<int:pk>/left/", views.mark_contact_left, name="contact-left"),
]
