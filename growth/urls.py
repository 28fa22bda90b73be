from django.urls import path

from . import views

app_name = "growth"

urlpatterns = [
    path("", views.pipeline, name="pipeline"),
    path("accounts/<int:pk>/opportunities/new/", views.opportunity_new, name="opportunity-new"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/update/", views.opportunity_update, name="opportunity-update"),
    path("opportunities/<int:pk>/win/", views.opportunity_win, name="opportunity-win"),
    path("opportunities/<int:pk>/lose/", views.opportunity_lose, name="opportunity-lose"),
    path("suggestions/<int:pk>/accept/", views.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss/", views.suggestion_dismiss, name="suggestion-dismiss"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint-list"),
    path("checkpoints/<int:pk>/call/", views.checkpoint_call, name="checkpoint-call"),
    path("accuracy/", views.accuracy, name="accuracy"),
]
