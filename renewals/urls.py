from django.urls import path

from . import answer_views, approval_views, views

app_name = "renewals"

urlpatterns = [
    path("", views.renewal_list, name="renewal-list"),
    path("board/", views.renewal_board, name="renewal-board"),
    path("<int:pk>/", views.renewal_detail, name="renewal-detail"),
    path("<int:pk>/stage/", views.renewal_stage, name="renewal-stage"),
    path("<int:pk>/update/", views.renewal_update, name="renewal-update"),
    path("<int:pk>/renew/", views.renewal_renew, name="renewal-renew"),
    path("<int:pk>/lose/", views.renewal_lose, name="renewal-lose"),
    path("notices/resend/", views.notices_resend, name="renewal-notices-resend"),
    path("approvals/", approval_views.approval_queue, name="approval-queue"),
    path("approvals/<int:pk>/", approval_views.approval_notice, name="approval-notice"),
    path("answers/<int:pk>/confirm/", answer_views.answer_confirm, name="renewal-answer-confirm"),
    path("notices/<int:pk>/resolve/", views.notice_resolve, name="renewal-notice-resolve"),
]
