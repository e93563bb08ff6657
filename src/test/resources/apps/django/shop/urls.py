from django.urls import path

from shop import views

urlpatterns = [
    path("", views.hello),
    path("health", views.health),
    path("slow", views.slow),
    path("echo", views.echo),
]
