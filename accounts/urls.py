from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.today, name="today"),
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
]
