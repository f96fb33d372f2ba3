from django.urls import path

from .views import (
    AppealDetailView,
    AppealItineraryView,
    AppealRejectView,
    AppealReleaseOnCallView,
    AppealResolveView,
    AppealRouteView,
    AppealStartView,
    AppealsView,
)

urlpatterns = [
    path("appeals/", AppealsView.as_view(), name="appeals"),
    path("appeals/<str:appeal_id>/", AppealDetailView.as_view(), name="appeal-detail"),
    path("appeals/<str:appeal_id>/route/", AppealRouteView.as_view(), name="appeal-route"),
    path("appeals/<str:appeal_id>/start/", AppealStartView.as_view(), name="appeal-start"),
    path("appeals/<str:appeal_id>/resolve/", AppealResolveView.as_view(), name="appeal-resolve"),
    path("appeals/<str:appeal_id>/reject/", AppealRejectView.as_view(), name="appeal-reject"),
    path("appeals/<str:appeal_id>/itinerary/", AppealItineraryView.as_view(), name="appeal-itinerary"),
    path("appeals/<str:appeal_id>/release/", AppealReleaseOnCallView.as_view(), name="appeal-release-on-call"),
]
