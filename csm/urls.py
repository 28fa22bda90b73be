from importlib import import_module

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import audit, import_views, metrics_api, metrics_views, otp, otp_views, views  # noqa: F401 (metrics_api registers on the router)
from .api import router

otp.require_otp_in_admin()

# Each app registers its viewsets on the shared router in its api.py.
for app in ("accounts", "renewals", "playbooks"):
    try:
        import_module(f"{app}.api")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.api":
            raise

urlpatterns = [
    path("", include("accounts.urls")),
    path("renewals/", include("renewals.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("notifications/", include("notifications.urls")),
    path("login/", otp_views.LoginView.as_view(), name="login"),
    path("login/code/", otp_views.otp_verify, name="otp-verify"),
    path("two-factor/", otp_views.otp_setup, name="otp-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics/", metrics_views.metrics_page, name="metrics"),
    path("metrics/ledger.csv", metrics_views.ledger_csv, name="metrics-ledger-csv"),
    path("imports/", include("csm.import_urls")),
    path("audit/", audit.audit_log, name="audit-log"),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
