from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/excerpts/", views.excerpt_list),
    path("api/v1/excerpts/<int:pk>/", views.excerpt_detail),
]
