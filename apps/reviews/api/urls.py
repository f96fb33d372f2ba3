from django.urls import path

from .views import ReleaseReviewCloseView, ReleaseReviewDecisionView, ReleaseReviewsView, ReleaseReviewView

urlpatterns = [
    path("releases/reviews/", ReleaseReviewsView.as_view(), name="release-reviews"),
    path("releases/<str:release_id>/review/", ReleaseReviewView.as_view(), name="release-review"),
    path(
        "releases/<str:release_id>/review/decision/",
        ReleaseReviewDecisionView.as_view(),
        name="release-review-decision",
    ),
    path("releases/<str:release_id>/review/close/", ReleaseReviewCloseView.as_view(), name="release-review-close"),
]
