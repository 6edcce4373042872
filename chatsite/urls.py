from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# Admin signs in through allauth's login (its rate limits, bans, two-factor): the admin's own form checked
# passwords without any limit.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("rooms.urls")),
]
