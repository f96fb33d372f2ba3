from django.urls import path

from .views import CredentialVerifyView, KeysView, StatusCredentialView

urlpatterns = [
    path("status/credential/", StatusCredentialView.as_view(), name="credential"),
    path("keys/", KeysView.as_view(), name="credential-keys"),
    path("credentials/verify/", CredentialVerifyView.as_view(), name="credential-verify"),
]
