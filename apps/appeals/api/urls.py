from django.urls import path

from .views import (
    AppealDetailView,
    AppealRejectView,
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
]
