from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.static import serve

from accounts import views as accounts_views

# Admin signs in through allauth's login (its rate limits, bans, two-factor): the admin's own form checked
# passwords without any limit.
admin.site.login = secure_admin_login(admin.site.login)


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files (avatars), in development: production's proxy serves MEDIA_ROOT at MEDIA_URL itself.
    MEDIA_ROOT is read per request, so tests can move it."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("people/<str:username>/card/", accounts_views.person_card, name="person_card"),
    path("", include("rooms.urls")),
]
if settings.SERVE_MEDIA:
    urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"))
