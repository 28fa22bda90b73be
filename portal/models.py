"""Links a CSM gives a customer's contact to the customer page, and every view of them."""

from datetime import datetime

from django.conf import settings
from django.db import models

from accounts.models import Account, Contact
from csm import roles


class CustomerLinkQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "CustomerLinkQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def live(self, *, now: datetime) -> "CustomerLinkQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class CustomerLink(models.Model):
    """One contact's way into the customer page: refused once revoked or past ``expires_at``."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="customer_links")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="customer_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CustomerLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Customer page of {self.account} for {self.contact.name}"

    def refusal(self, *, now: datetime) -> str:
        """Why the link no longer opens the page, or '' while it does."""
        if self.revoked_at is not None:
            return "This link was withdrawn."
        if now >= self.expires_at:
            return "This link has expired."
        return ""


class CustomerLinkView(models.Model):
    """One opening of the customer page or its PDF through a link (kept for the CSM: every view logged)."""

    class What(models.TextChoices):
        PAGE = "page", "Page"
        PDF = "pdf", "Statement PDF"

    link = models.ForeignKey(CustomerLink, on_delete=models.CASCADE, related_name="views")
    what = models.CharField(max_length=10, choices=What.choices, default=What.PAGE)
    viewed_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-viewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.link} viewed {self.viewed_at:%Y-%m-%d %H:%M}"
