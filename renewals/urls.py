app_name = "renewals"

urlpatterns: list = []
