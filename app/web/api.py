"""The web view's data as JSON under ``/api/v1`` (being built)."""

from fastapi import APIRouter

from app.services import Services
from app.web.auth import Access


def api_router(services: Services, access: Access) -> APIRouter:
    return APIRouter(prefix="/api/v1")
