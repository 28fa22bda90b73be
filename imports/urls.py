from django.urls import path

from . import views as import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.import_list, name="import-list"),
    path("<int:pk>/", import_views.import_detail, name="import-detail"),
    path("<int:pk>/mapping/", import_views.import_mapping, name="import-mapping"),
    path("<int:pk>/run/", import_views.import_run, name="import-run"),
    path("template/<str:kind>.csv", import_views.import_template, name="import-template"),
]
