from django.urls import path

from . import views

# No namespace: the page names ("metrics", "metrics-ledger-csv") predate the app.
urlpatterns = [
    path("", views.metrics_page, name="metrics"),
    path("ledger.csv", views.ledger_csv, name="metrics-ledger-csv"),
]
