"""Loom's URLs plus one API path that crashes, to see what a 500 under /api/ looks like."""
from django.urls import include, path


def crash(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("api/crash/", crash), path("", include("loom.urls"))]
