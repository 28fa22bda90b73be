"""Every URL of the site, and the API router with every viewset registered in one list.

csm imports no app (the layer contract in pyproject.toml, docs/architecture.md); this module and
csm/settings.py are the exceptions, because wiring the apps together is their job.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
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
from portal.api import CustomerLinkViewSet
from renewals.api import ContractViewSet, RenewalViewSet
from surveys.api import SurveyResponseViewSet

from . import otp, otp_views, session_views, sso_views, token_views, views
from .sso_views import needs_passwords

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
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
router.register("customer-links", CustomerLinkViewSet, basename="customer-link")

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
    # Single sign-on (csm/sso.py): 404 unless OIDC_CLIENT_ID is set.
    path("oidc/authenticate/", login_not_required(sso_views.SSOLoginView.as_view()), name="oidc_authentication_init"),
    path(
        "oidc/callback/", login_not_required(sso_views.SSOCallbackView.as_view()), name="oidc_authentication_callback"
    ),
    path("logout/", sso_views.LogoutView.as_view(), name="logout"),
    path("sessions/", session_views.session_list, name="sessions"),
    path("tokens/", token_views.token_list, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="api-token-revoke"),
    # The password pages are 404 while password sign-in is off (PASSWORD_SIGN_IN=0 with SSO on).
    path("password/change/", needs_passwords(auth_views.PasswordChangeView.as_view()), name="password_change"),
    path(
        "password/change/done/",
        needs_passwords(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("password/reset/", needs_passwords(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password/reset/sent/", needs_passwords(auth_views.PasswordResetDoneView.as_view()), name="password_reset_done"
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        needs_passwords(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        needs_passwords(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
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
    # The survey link a customer clicks in the email, without signing in (surveys/public_views.py).
    path("s/", include("surveys.public_urls")),
    # The customer page a CSM shares with a contact, without signing in (portal/views.py).
    path("p/", include("portal.public_urls")),
    path("portal/", include("portal.urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
