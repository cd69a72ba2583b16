from django.urls import path, re_path

from web import views

# Mounted after the API: anything that is not /api/, /admin/ or an asset is a client route.
api = [
    path("auth/session/", views.SessionView.as_view(), name="auth-session"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
]

urlpatterns = [
    path("assets/<path:path>", views.asset, name="web-asset"),
    re_path(r"^(?!api/|admin/|static/|assets/)(?P<path>.*)$", views.index, name="web-index"),
]
