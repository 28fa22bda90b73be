from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("health/calibration/", views.calibration, name="calibration"),
    path("accounts/<int:pk>/health-checks/new/", views.health_check_new, name="check-new"),
]
