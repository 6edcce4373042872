from django.urls import path

from . import views

urlpatterns = [
    path("security/", views.security, name="account_security"),
    path("settings/", views.account_settings, name="account_settings"),
    # The page's address before it was Settings (language and time zone only): links and bookmarks to it work.
    path("preferences/", views.account_settings, name="account_preferences"),
    path("preferences/time-zone/", views.detected_time_zone, name="account_detected_time_zone"),
    path("language/", views.set_language, name="set_language"),
]
