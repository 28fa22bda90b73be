from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.today, name="today"),
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
]

# Health (issue #4).
from . import health_views  # noqa: E402

urlpatterns += [
    path("health/calibration/", health_views.calibration, name="health-calibration"),
    path("accounts/<int:pk>/health-checks/new/", health_views.health_check_new, name="health-check-new"),
]
