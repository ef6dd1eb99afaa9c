"""Every domain's router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from api.genres.endpoints import router as genres_router

ROUTERS: list[APIRouter] = [genres_router]
