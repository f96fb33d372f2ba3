"""URLs of the casework screens, inside the admin (`/admin/casework/…`, before the admin's own
URLs in config/urls.py). Each view goes through the admin's login and the access layer."""

from django.urls import path

from . import admin_views as views

app_name = "casework_admin"

urlpatterns = [
    path("queue/", views.casework_view(views.queue), name="queue"),
    path("persons/<str:ref>/release/", views.casework_view(views.release), name="release"),
    path("persons/<str:ref>/orders/new/", views.casework_view(views.order_start), name="order_start"),
    path("persons/<str:ref>/verify/", views.casework_view(views.verify), name="verify"),
    path("persons/<str:ref>/identity/", views.casework_view(views.reveal), name="reveal"),
    path("persons/<str:ref>/community/", views.casework_view(views.community), name="community"),
    path("orders/<int:order_id>/end/", views.casework_view(views.order_end), name="order_end"),
    path(
        "registrations/<int:registration_id>/decide/",
        views.casework_view(views.registration_decide),
        name="registration_decide",
    ),
]
