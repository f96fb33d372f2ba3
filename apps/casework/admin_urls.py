"""URLs of the casework screens, inside the admin (`/admin/casework/…`, before the admin's own
URLs in config/urls.py). Each view goes through the admin's login and the access layer
(`apps.core.admin_actions`)."""

from django.urls import path

from apps.core.admin_actions import admin_action

from . import admin_views as views

app_name = "casework_admin"

urlpatterns = [
    path("queue/", admin_action(views.QueueView), name="queue"),
    path("persons/<str:ref>/release/", admin_action(views.ReleaseView), name="release"),
    path("persons/<str:ref>/orders/new/", admin_action(views.OrderStartView), name="order_start"),
    path("persons/<str:ref>/verify/", admin_action(views.VerifyView), name="verify"),
    path("persons/<str:ref>/identity/", admin_action(views.RevealView), name="reveal"),
    path("persons/<str:ref>/community/", admin_action(views.CommunityView), name="community"),
    path("orders/<int:order_id>/end/", admin_action(views.OrderEndView), name="order_end"),
    path(
        "registrations/<int:registration_id>/decide/",
        admin_action(views.RegistrationDecideView),
        name="registration_decide",
    ),
]
