"""Every URL of the site, and the API router with every viewset registered in one list.

csm imports no app (the layer contract in pyproject.toml, docs/architecture.md); this module and
csm/settings.py are the exceptions, because wiring the apps together is their job.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from accounts.api import (
    AccountViewSet,
    ContactViewSet,
    HealthScoreViewSet,
    TouchpointViewSet,
    UsageSnapshotViewSet,
)
from front import operations as front_operations
from growth.api import CheckpointViewSet, OpportunityViewSet, SuggestionViewSet
from metrics.api import MetricsViewSet
from playbooks.api import HandoffViewSet, TaskViewSet
from renewals.api import ContractViewSet, RenewalViewSet

from . import otp, otp_views, session_views, token_views, views

otp.require_otp_in_admin()

handler404 = "csm.views.not_found"

router = routers.DefaultRouter()
router.register("metrics", MetricsViewSet, basename="metrics")
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")
router.register("usage", UsageSnapshotViewSet, basename="usage")
router.register("health", HealthScoreViewSet, basename="health")
router.register("contracts", ContractViewSet, basename="contract")
router.register("renewals", RenewalViewSet, basename="renewal")
router.register("handoffs", HandoffViewSet, basename="handoff")
router.register("tasks", TaskViewSet, basename="task")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")

urlpatterns = [
    path("", include("front.urls")),
    path("", include("accounts.urls")),
    path("", include("health.urls")),
    path("renewals/", include("renewals.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("notifications/", include("notifications.urls")),
    path("growth/", include("growth.urls")),
    path("login/", otp_views.LoginView.as_view(), name="login"),
    path("login/code/", otp_views.otp_verify, name="otp-verify"),
    path("two-factor/", otp_views.otp_setup, name="otp-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/", session_views.session_list, name="sessions"),
    path("tokens/", token_views.token_list, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="api-token-revoke"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("healthz", views.healthz, name="healthz"),
    path("operations/", front_operations.operations_page, name="operations"),
    path("metrics/", include("metrics.urls")),
    path("imports/", include("imports.urls")),
    path("admin/login/", otp_views.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # Mail providers' tracking webhooks (basic auth / signature checked by anymail).
    path("anymail/", include("renewals.delivery_urls")),
    # What a notice's recipient opens from the email, without signing in (renewals/public_views.py).
    path("r/", include("renewals.public_urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
