"""One router for every app's API views (API.md)."""

from django.urls import include, path

from apps.audit.api.views import AuditCheckpointsView, AuditView
from apps.casework.api.views import (
    CommunityRegistrationsView,
    OrderEndView,
    OrdersView,
    PopupReleaseView,
    RegistrationDecideView,
    WorkQueueView,
)
from apps.evidence.api.views import FeedView
from apps.people.api.views import PersonUpsertView
from apps.policy.api.views import BorderPortView, PolicyView, RiskDesignationView
from apps.status.api.restrictions import RestrictionsView
from apps.status.api.views import ItineraryDeclarationView, PersonPopupsView, PersonStatusView, StatusLookupView

urlpatterns = [
    path("persons/", PersonUpsertView.as_view(), name="persons"),
    path("persons/<str:ref>/status/", PersonStatusView.as_view(), name="person-status"),
    path("persons/<str:ref>/popups/", PersonPopupsView.as_view(), name="person-popups"),
    path("status/", StatusLookupView.as_view(), name="status"),
    path("feeds/<str:feed>/", FeedView.as_view(), name="feed"),
    path("risk-designations/", RiskDesignationView.as_view(), name="risk-designations"),
    path("border-port-counties/", BorderPortView.as_view(), name="border-port-counties"),
    path("policy/", PolicyView.as_view(), name="policy"),
    path("itinerary-declarations/", ItineraryDeclarationView.as_view(), name="itinerary-declarations"),
    path("popups/<str:popup_id>/release/", PopupReleaseView.as_view(), name="popup-release"),
    path("orders/", OrdersView.as_view(), name="orders"),
    path("orders/<str:order_id>/end/", OrderEndView.as_view(), name="order-end"),
    path("community-registrations/", CommunityRegistrationsView.as_view(), name="community-registrations"),
    path(
        "community-registrations/<str:registration_id>/decide/",
        RegistrationDecideView.as_view(),
        name="community-registration-decide",
    ),
    path("work-queue/", WorkQueueView.as_view(), name="work-queue"),
    path("audit/", AuditView.as_view(), name="audit"),
    path("audit/checkpoints/", AuditCheckpointsView.as_view(), name="audit-checkpoints"),
    path("", include("apps.hotels.api.urls")),
    path("", include("apps.appeals.api.urls")),
    path("", include("apps.reviews.api.urls")),
    path("", include("apps.credentials.api.urls")),
    path("restrictions/", RestrictionsView.as_view(), name="restrictions"),
    path("ping/", include("apps.core.api_ping")),
    path("tokens/", include("apps.accounts.api")),
]
