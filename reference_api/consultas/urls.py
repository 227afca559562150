from django.urls import path

from . import views
from .tablas import slug

urlpatterns = [
    path(f"{slug()}/<str:ruta>/<str:pk>", views.por_clave),
    path(f"{slug()}/<str:ruta>/<str:pk>/<str:sk>", views.por_clave_y_orden),
    path("salud", views.salud),
]
