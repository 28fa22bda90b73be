"""Mail providers' tracking webhooks (django-anymail), only the ones renewals reads.

anymail's own urls.py also routes inbound mail and answers 500 for a provider that is not
configured; here an unconfigured provider's URL is a 404, and only tracking is routed.
"""

from collections.abc import Callable

from anymail.exceptions import AnymailConfigurationError
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponseBadRequest, HttpResponseBase
from django.urls import path
from django.views import View
from django.views.decorators.csrf import csrf_exempt

VIEWS = {
    "amazon_ses": AmazonSESTrackingWebhookView,
    "brevo": BrevoTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "mailjet": MailjetTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "resend": ResendTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
}


def guarded(view_class: type[View]) -> Callable[..., HttpResponseBase]:
    view = view_class.as_view()

    # Providers sign or basic-authenticate their calls (anymail checks); they carry no CSRF token.
    @login_not_required
    @csrf_exempt
    def webhook(request: HttpRequest) -> HttpResponseBase:
        # Without the shared secret anymail would accept anyone's events: the URL stays closed.
        if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
            raise Http404("Mail-provider webhooks need ANYMAIL_WEBHOOK_SECRET.")
        try:
            return view(request)
        except (ImproperlyConfigured, AnymailConfigurationError) as exc:
            raise Http404("This mail provider's webhook is not configured.") from exc
        except (ValueError, KeyError, TypeError) as exc:
            # A payload that does not parse; database trouble still answers 5xx so the provider retries.
            return HttpResponseBadRequest(f"Malformed webhook payload: {type(exc).__name__}")

    return webhook


urlpatterns = [
    path(f"{name}/tracking/", guarded(view_class), name=f"{name}_tracking_webhook")
    for name, view_class in VIEWS.items()
]
