from django.urls import path

from . import views

app_name = "portal-public"

urlpatterns = [
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/statement.pdf", views.statement_pdf, name="statement-pdf"),
]
